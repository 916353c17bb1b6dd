/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading sshd's configuration for doctor: values from `sshd -T` output, the first setting of a keyword in
 * sshd_config and its Include files (sshd keeps the first value it reads), and what AuthenticationMethods
 * allows. No commands run here. */

#include <stdbool.h>
#include <stddef.h>

/* The value of one lower-case key in `sshd -T` output, copied into buf; NULL when absent. */
const char *sshd_config_value(const char *text, const char *key, char *buf, size_t size);

/* The first KEYWORD (any case) sshd reads from PATH, following Include (globs, relative to /etc/ssh) and
 * stopping at the first Match block. True and "FILE:LINE: 'Keyword value'" in buf when found. */
bool sshd_config_first_setting(const char *path, const char *keyword, char *buf, size_t size);

/* The keyword that disabled the method sshd -t names in 'Disabled method "X" in AuthenticationMethods list'
 * (KbdInteractiveAuthentication, PasswordAuthentication, PubkeyAuthentication), or NULL. */
const char *sshd_keyword_for_disabled_method(const char *text);

/* Does every list of AuthenticationMethods VALUE include keyboard-interactive? *some: at least one does. */
bool sshd_methods_all_kbdint(const char *value, bool *some);

/* Does any list allow a password login ("any" does)? */
bool sshd_methods_allow_password(const char *value);
