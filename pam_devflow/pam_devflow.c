/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Placeholder until the module lands: always fails closed. */
#include <security/pam_modules.h>
int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) { return PAM_AUTH_ERR; }
int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) { return PAM_SUCCESS; }
