/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "ctl-util.h"
#include "devflow-bus.h"
#include "devflow-client.h"
#include "doctor-daemon.h"
#include "macro.h"
#include "probe.h"

int doctor_check_daemon(Findings *d) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(devflow_status_done) DevflowStatus status = {};
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        static const char fix_start[] = "Start it (D-Bus activation also starts it on the first login): systemctl "
                                        "start devflowd; its log: journalctl -u devflowd";
        const char *issuer = "", *version = "";
        uint64_t last_age = USEC_INFINITY;
        int reachable = -1, r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                findings_add(d, SEVERITY_ERROR, "daemon.bus", "Start D-Bus (systemctl start dbus).",
                             "Cannot connect to the system bus: %s.", strerror(-r));
                return 0;
        }
        r = devflow_get_status(bus, 10 * USEC_PER_SEC, &error, &status);
        if (r == -EBADMSG && !sd_bus_error_is_set(&error)) {
                findings_add(d, SEVERITY_WARNING, "daemon.bus", "Make devflowctl and devflowd the same version.",
                             "devflowd answered GetStatus with an unexpected reply.");
                return 0;
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (devflow_error_is_unreachable(&error, r))
                        findings_add(d, SEVERITY_ERROR, "daemon.bus", fix_start,
                                     "devflowd is not running on the system bus (%s).",
                                     error.message ?: strerror(-r));
                else if (sd_bus_error_has_name(&error, DEVFLOW_ERROR_NOT_PERMITTED))
                        findings_add(d, SEVERITY_WARNING, "daemon.bus", "Run devflowctl doctor as root.",
                                     "devflowd is running, but only root may read its status.");
                else
                        findings_add(d, SEVERITY_ERROR, "daemon.bus", "Read the daemon's log: journalctl -u devflowd",
                                     "devflowd did not answer GetStatus: %s.", error.message ?: strerror(-r));
                return 0;
        }
        issuer = strempty(status.issuer);
        version = strempty(status.version);
        last_age = status.idp_last_request_age_usec;
        reachable = status.idp_reachable;

        findings_add(d, SEVERITY_OK, "daemon.bus", NULL, "devflowd %s is running on the system bus.", version);
        /* What the daemon saw last, with its age: a cached discovery document says nothing about now. */
        if (last_age == USEC_INFINITY)
                findings_add(d, SEVERITY_OK, "daemon.idp_last", NULL,
                             "devflowd has not sent the IdP (%s) a request yet.", issuer);
        else {
                char age[64];

                format_timespan(age, sizeof age, last_age);
                if (reachable == 0)
                        findings_add(d, SEVERITY_WARNING, "daemon.idp_last",
                                     "Read why in the daemon's log: journalctl -u devflowd",
                                     "devflowd's last request to the IdP (%s), %s ago, got no answer.", issuer, age);
                else
                        findings_add(d, SEVERITY_OK, "daemon.idp_last", NULL,
                                     "devflowd's last request to the IdP (%s), %s ago, got an answer.", issuer, age);
        }
        return 0;
}

/* doctor's own request to the IdP, now. */
int doctor_check_idp(Findings *d, const char *config) {
        ProbeResult p;
        char took[64];
        int r;

        r = probe_idp(config, &p);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                findings_add(d, SEVERITY_WARNING, "daemon.idp", "Correct the configuration first (see above).",
                             "The IdP was not probed: %s does not load.", config);
                return 0;
        }
        format_timespan(took, sizeof took, p.elapsed_usec);
        if (!p.answered)
                findings_add(d, SEVERITY_ERROR, "daemon.idp",
                             "Check the issuer URL and ca_file in the configuration, DNS, the firewall and the proxy; "
                             "try by hand: curl -sS -o /dev/null -w '%{http_code}\\n' URL (with --cacert for ca_file)",
                             "The IdP does not answer %s: %s (after %s).", p.url, p.error, took);
        else if (p.status != 200)
                findings_add(d, SEVERITY_ERROR, "daemon.idp",
                             "Check the issuer (or jwks_uri) in the configuration: it must be the IdP's own URL.",
                             "The IdP answers %s with HTTP %ld (in %s), not 200.", p.url, p.status, took);
        else
                findings_add(d, SEVERITY_OK, "daemon.idp", NULL, "The IdP answers %s (HTTP 200 in %s).", p.url, took);
        return 0;
}
