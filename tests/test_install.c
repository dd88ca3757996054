/*
 * test_install.c - runs tests/test_install.sh: install into a temporary
 * prefix, build examples/ with find_package(ringcore) and with pkg-config,
 * run the results. Skips (with the reason printed) when cmake is missing.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int main(void)
{
    if (system("cmake --version >/dev/null 2>&1") != 0) {
        printf("skip: cmake not found; the install test needs it\n");
        return 0;
    }
    /* The CLI sits at the top of the build directory. */
    char cli[4096];
    snprintf(cli, sizeof(cli), "%s", RC_CLI_PATH);
    const char *build = dirname(cli);
    char cmd[8192];
    snprintf(cmd, sizeof(cmd), "sh '%s/tests/test_install.sh' '%s' '%s'", RC_SOURCE_DIR, build,
             RC_SOURCE_DIR);
    fflush(stdout);
    int st = system(cmd);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        printf("install test FAILED\n");
        return 1;
    }
    return 0;
}
