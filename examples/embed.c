/* placeholder: the example embedder (examples/embed.c) */
#include "ringcore.h"
int main(void) { return 0; }
