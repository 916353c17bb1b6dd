/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "command.h"
#include "macro.h"

int command_run(char *const argv[], char **ret_output) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, allocated = 0;
        int pipefd[2], status;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                int e = errno;

                close(pipefd[0]);
                close(pipefd[1]);
                return -e;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(pipefd[1], STDOUT_FILENO) < 0 ||
                    dup2(pipefd[1], STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        close(pipefd[1]);
        for (;;) {
                ssize_t k;

                if (allocated - n < 4096) {
                        char *p;

                        if (allocated >= COMMAND_OUTPUT_MAX)
                                break;  /* enough: the rest is drained below */
                        p = realloc(buf, allocated + 8192);
                        if (!p)
                                break;
                        buf = p;
                        allocated += 8192;
                }
                k = read(pipefd[0], buf + n, allocated - n - 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        /* Drain whatever did not fit, so the child never blocks on a full pipe. */
        for (;;) {
                char sink[4096];
                ssize_t k = read(pipefd[0], sink, sizeof sink);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
        }
        close(pipefd[0]);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!buf) {
                buf = strdup("");
                if (!buf)
                        return -ENOMEM;
        } else
                buf[n] = 0;
        *ret_output = TAKE_PTR(buf);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

void command_first_line(const char *text, char *buf, size_t size) {
        const char *p = text;
        size_t n = 0;

        while (*p == '\n' || *p == ' ')
                p++;
        for (; *p && *p != '\n' && *p != '\r' && n + 1 < size && n < 200; p++)
                buf[n++] = ((unsigned char) *p < 0x20 || *p == 0x7f) ? '?' : *p;
        buf[n] = 0;
}
