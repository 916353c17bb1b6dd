/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Running a program for doctor (sshd -t/-T, devflowd --check-config): no shell, a fixed argv, stdin from
 * /dev/null, stdout and stderr captured together, at most COMMAND_OUTPUT_MAX bytes kept. */

#include <stddef.h>

#define COMMAND_OUTPUT_MAX (256U * 1024U)

/* Returns the exit status (>= 0; 128+N for a signal) and the output, or -errno when it could not run. */
int command_run(char *const argv[], char **ret_output);

/* The first non-empty line of text, control characters replaced by '?', at most 200 bytes, into buf. */
void command_first_line(const char *text, char *buf, size_t size);
