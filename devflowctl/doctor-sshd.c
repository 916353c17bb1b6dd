/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "doctor-sshd.h"
#include "macro.h"
#include "pam_devflow/args.h"
#include "sshd-config.h"

void doctor_sshd_test_failed(Findings *d, const char *config, const char *out, int r) {
        const char *keyword;
        char quote[256], earlier[512] = "";

        command_first_line(r < 0 ? strerror(-r) : out, quote, sizeof quote);
        /* skip sshd's "line N: Deprecated option" chatter: quote the line that says what failed */
        for (const char *p = out; r >= 0 && p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strstr(p, "Disabled method") == p || strncasecmp(p, "fatal", 5) == 0 || strstr(p, "Bad ") == p ||
                    strstr(p, "no argument") || strstr(p, "Unsupported option") || strstr(p, "bad configuration")) {
                        command_first_line(p, quote, sizeof quote);
                        break;
                }
        keyword = r >= 0 ? sshd_keyword_for_disabled_method(out) : NULL;
        if (keyword && sshd_config_first_setting(config, keyword, earlier, sizeof earlier))
                findings_add(d, SEVERITY_ERROR, "sshd.test",
                             "Put the settings in a drop-in, which Debian's sshd_config reads before its own lines, "
                             "delete the lines added at the end of sshd_config, then check: " FIX_SSHD_DROPIN,
                             "sshd -t rejects the configuration: '%s'. sshd keeps the first value it reads, and the "
                             "first %s is %s: a later line does not change it. sshd will not (re)start like this.",
                             quote, keyword, earlier);
        else
                findings_add(d, SEVERITY_ERROR, "sshd.test",
                             "Correct what sshd names, then check with: sshd -t",
                             "sshd -t rejects the configuration: '%s'. sshd will not (re)start like this.", quote);
}

void doctor_judge_sshd(Findings *d, const char *out, bool uses_devflow, unsigned timeout_sec) {
        Severity bad = uses_devflow ? SEVERITY_ERROR : SEVERITY_WARNING;
        unsigned timeout = uses_devflow ? timeout_sec : ARGS_TIMEOUT_DEFAULT_SEC;
        bool use_pam = false;
        char v[256];

        assert(out);

        if (sshd_config_value(out, "usepam", v, sizeof v) && strcasecmp(v, "yes") != 0)
                findings_add(d, bad, "sshd.use_pam", FIX_SSHD_DROPIN,
                             "sshd: UsePAM is '%s': sshd never runs the PAM stack, so pam_devflow is never asked.", v);
        else {
                use_pam = true;
                findings_add(d, SEVERITY_OK, "sshd.use_pam", NULL, "sshd: UsePAM is on.");
        }

        if (sshd_config_value(out, "kbdinteractiveauthentication", v, sizeof v) ||
            sshd_config_value(out, "challengeresponseauthentication", v, sizeof v)) {
                if (strcasecmp(v, "yes") != 0)
                        findings_add(d, bad, "sshd.kbd_interactive", FIX_SSHD_DROPIN,
                                     "sshd: KbdInteractiveAuthentication is '%s': the device flow's prompt "
                                     "(keyboard-interactive) is never offered.", v);
                else
                        findings_add(d, SEVERITY_OK, "sshd.kbd_interactive", NULL,
                                     "sshd: KbdInteractiveAuthentication is on.");
        }

        if (sshd_config_value(out, "authenticationmethods", v, sizeof v)) {
                bool some;

                if (strcasecmp(v, "any") == 0)
                        findings_add(d, SEVERITY_WARNING, "sshd.authentication_methods",
                                     "To require the device flow after a public key: " FIX_SSHD_DROPIN,
                                     "sshd: AuthenticationMethods is 'any': a public key alone logs in without the "
                                     "device flow.");
                else if (sshd_methods_all_kbdint(v, &some))
                        findings_add(d, SEVERITY_OK, "sshd.authentication_methods", NULL,
                                     "sshd: every AuthenticationMethods list requires keyboard-interactive.");
                else if (some)
                        findings_add(d, SEVERITY_WARNING, "sshd.authentication_methods",
                                     "If the device flow must be required, add keyboard-interactive to every list of "
                                     "AuthenticationMethods in " SSHD_DROPIN ", then: sshd -t && systemctl reload ssh",
                                     "sshd: AuthenticationMethods '%s' has a list without keyboard-interactive: it "
                                     "logs in without the device flow.", v);
                else
                        findings_add(d, bad, "sshd.authentication_methods", FIX_SSHD_DROPIN,
                                     "sshd: AuthenticationMethods '%s' never uses keyboard-interactive, so the "
                                     "device flow is never reached.", v);
        }

        /* With UsePAM, sshd checks passwords through the same PAM auth stack: there pam_devflow starts a
         * flow whose code no one sees, and the attempt waits until the module's timeout. */
        if (uses_devflow && use_pam && sshd_config_value(out, "passwordauthentication", v, sizeof v) &&
            strcasecmp(v, "yes") == 0) {
                char methods[256];

                if (!sshd_config_value(out, "authenticationmethods", methods, sizeof methods) ||
                    sshd_methods_allow_password(methods))
                        findings_add(d, SEVERITY_ERROR, "sshd.password",
                                     "Turn password logins off (the drop-in sets 'PasswordAuthentication no'): "
                                     FIX_SSHD_DROPIN,
                                     "sshd: PasswordAuthentication is on and sshd's PAM auth stack runs pam_devflow: "
                                     "sshd checks a password through that stack, so each password attempt starts a "
                                     "device flow whose code nobody sees and hangs up to %u s before it fails.",
                                     timeout);
                else
                        findings_add(d, SEVERITY_WARNING, "sshd.password",
                                     "Also set 'PasswordAuthentication no' (the drop-in does): " FIX_SSHD_DROPIN,
                                     "sshd: PasswordAuthentication is on; only AuthenticationMethods '%s' keeps "
                                     "password attempts out of pam_devflow.", methods);
        } else if (uses_devflow)
                findings_add(d, SEVERITY_OK, "sshd.password", NULL, "sshd: PasswordAuthentication is off.");

        if (sshd_config_value(out, "logingracetime", v, sizeof v)) {
                char *end;
                unsigned long grace;

                errno = 0;
                grace = strtoul(v, &end, 10);
                if (errno != 0 || end == v || *end != 0)
                        findings_add(d, SEVERITY_WARNING, "sshd.login_grace_time", NULL,
                                     "sshd: cannot read LoginGraceTime '%s'.", v);
                else if (grace != 0 && grace <= timeout)
                        findings_add(d, bad, "sshd.login_grace_time",
                                     "Set 'LoginGraceTime' above the module's timeout in " SSHD_DROPIN
                                     " (e.g. 'LoginGraceTime 180'), or lower timeout= on the pam_devflow line; "
                                     "then: sshd -t && systemctl reload ssh",
                                     "sshd: LoginGraceTime is %lu s but pam_devflow waits up to %u s: sshd cuts the "
                                     "connection while the user is still approving, and a fresh code's 'Valid "
                                     "until' promises time sshd does not give.", grace, timeout);
                else
                        findings_add(d, SEVERITY_OK, "sshd.login_grace_time", NULL,
                                     "sshd: LoginGraceTime (%s) leaves room for the module's timeout (%u s).",
                                     grace == 0 ? "no limit" : v, timeout);
        }
}
