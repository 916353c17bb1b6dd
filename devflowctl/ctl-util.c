/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ctl-util.h"
#include "devflow-bus.h"
#include "macro.h"
#include "text-safety.h"

void json_print_string(FILE *f, const char *s) {
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        fputs("\\\"", f);
                        break;
                case '\\':
                        fputs("\\\\", f);
                        break;
                case '\n':
                        fputs("\\n", f);
                        break;
                case '\t':
                        fputs("\\t", f);
                        break;
                case '\r':
                        fputs("\\r", f);
                        break;
                default:
                        /* RFC 8259 §7: control characters must be escaped; DEL too, to be safe on a terminal. */
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

void print_sanitized(FILE *f, const char *s) {
        /* The one rule of common/text-safety.h: controls, C1, bidi and invisible characters, bad UTF-8 → '?'. */
        _cleanup_free_ char *copy = strdup_sanitized(s);

        fputs(copy ?: "?", f);
}

char *format_timespan(char *buf, size_t size, uint64_t usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } table[] = {
                { "d",   24ULL * 3600ULL * USEC_PER_SEC },
                { "h",   3600ULL * USEC_PER_SEC },
                { "min", 60ULL * USEC_PER_SEC },
                { "s",   USEC_PER_SEC },
        };
        size_t n = 0;

        if (size == 0)
                return buf;
        buf[0] = 0;
        if (usec == USEC_INFINITY) {
                snprintf(buf, size, "never");
                return buf;
        }
        if (usec < USEC_PER_SEC) {
                snprintf(buf, size, "%" PRIu64 "ms", usec / USEC_PER_MSEC);
                return buf;
        }
        for (size_t i = 0; i < ELEMENTSOF(table) && n < size; i++) {
                uint64_t v = usec / table[i].usec;
                int k;

                if (v == 0)
                        continue;
                usec %= table[i].usec;
                k = snprintf(buf + n, size - n, "%s%" PRIu64 "%s", n > 0 ? " " : "", v, table[i].suffix);
                if (k < 0)
                        break;
                n += (size_t) k;
        }
        return buf;
}

bool bus_error_is_no_daemon(const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e))
                return sd_bus_error_has_names(e,
                                              SD_BUS_ERROR_SERVICE_UNKNOWN,
                                              SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                              SD_BUS_ERROR_NO_REPLY,
                                              SD_BUS_ERROR_DISCONNECTED,
                                              SD_BUS_ERROR_TIMEOUT,
                                              "org.freedesktop.DBus.Error.Spawn.ChildExited",
                                              "org.freedesktop.DBus.Error.Spawn.ExecFailed",
                                              "org.freedesktop.DBus.Error.Spawn.Failed",
                                              "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
                                              "org.freedesktop.systemd1.NoSuchUnit",
                                              "org.freedesktop.systemd1.UnitMasked");
        /* No bus at all, or the connection broke. */
        return r == -ENOENT || r == -ECONNREFUSED || r == -ECONNRESET || r == -ENOTCONN || r == -ETIMEDOUT ||
               r == -EHOSTDOWN || r == -EPIPE;
}

static const char *short_error_name(const char *name) {
        /* Our own names read better without the prefix: "NotPermitted". */
        if (name && strncmp(name, DEVFLOW_ERROR_PREFIX, strlen(DEVFLOW_ERROR_PREFIX)) == 0)
                return name + strlen(DEVFLOW_ERROR_PREFIX);
        return name;
}

int report_bus_error(const char *what, const sd_bus_error *e, int r, bool json) {
        bool no_daemon = bus_error_is_no_daemon(e, r);
        bool set = e && sd_bus_error_is_set(e);
        bool not_permitted = set && (sd_bus_error_has_name(e, DEVFLOW_ERROR_NOT_PERMITTED) ||
                                     sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED));
        const char *name = set ? e->name : NULL;
        const char *message = set && e->message ? e->message : strerror(r < 0 ? -r : r);

        if (json) {
                fputs("{\"error\":", stdout);
                json_print_string(stdout, name ? short_error_name(name) : (no_daemon ? "NoDaemon" : "Failed"));
                fputs(",\"message\":", stdout);
                json_print_string(stdout, message);
                fputs(",\"what\":", stdout);
                json_print_string(stdout, what);
                fputs("}\n", stdout);
        } else if (no_daemon) {
                fprintf(stderr, "devflowctl: %s: devflowd is not reachable on the system bus (", what);
                print_sanitized(stderr, message);
                fputs(").\n", stderr);
        } else if (not_permitted) {
                fprintf(stderr, "devflowctl: %s: not permitted: ", what);
                print_sanitized(stderr, message);
                fputs(" (run devflowctl as root)\n", stderr);
        } else {
                fprintf(stderr, "devflowctl: %s failed: ", what);
                print_sanitized(stderr, message);
                if (name) {
                        fputs(" [", stderr);
                        print_sanitized(stderr, short_error_name(name));
                        fputc(']', stderr);
                }
                fputc('\n', stderr);
        }
        return no_daemon ? EXIT_NO_DAEMON : not_permitted ? EXIT_NOT_PERMITTED : EXIT_FAILURE_;
}

int ctl_bus_open(sd_bus **ret, bool json) {
        sd_bus *bus = NULL;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0) {
                (void) report_bus_error("connecting to the system bus", NULL, -ECONNREFUSED, json);
                return r;
        }
        *ret = bus;
        return 0;
}
