/* placeholder: the CLI is being written (tools/ringcore.c) */
#include <stdio.h>
int main(void) { fprintf(stderr, "ringcore: CLI not built yet\n"); return 2; }
