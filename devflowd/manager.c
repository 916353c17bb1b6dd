/* SPDX-License-Identifier: LGPL-2.1-or-later */

#include <curl/curl.h>
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devflow-bus.h"
#include "jws.h"
#include "log.h"
#include "flow.h"
#include "hashmap.h"
#include "macro.h"
#include "manager.h"
#include "netaddr.h"
#include "audit.h"
#include "secure-file.h"
#include "text-safety.h"
#include "time-util.h"
#include "user-util.h"

#define CONTEXT_VALUE_MAX 256
#define RATE_WINDOW_USEC (60 * USEC_PER_SEC)
#define TRIM_INTERVAL_USEC (30 * USEC_PER_SEC)

typedef struct RhostRate RhostRate;

/* New flows per source in the current one-minute window (flood and phishing control). A window starts with
 * its source's first flow and the entry goes when it is over, so the entries are in the order their
 * windows end: a queue, from which the expired ones are dropped first (each once: O(1) amortised per
 * call), with a table to find one by source. */
struct RhostRate {
        char *rhost;
        uint64_t window_start;
        unsigned count;
        RhostRate *next;                /* the next window to end */
};

/* The daemon's context: one per process, owned by manager_run(). */
typedef struct Manager {
        Config *config;
        FlowContext flows;              /* the flows and what they share (flow.h) */
        RhostRate *rates, *rates_last;  /* the queue of windows, oldest first */
        Hashmap *rates_by_rhost;
        sd_event_source *trim_timer;    /* on while there are flows (trim_later()) */

        uint64_t n_forged_signals;      /* bus-driver signals from anyone but the bus driver, dropped */
        bool bus_lost;
        uint64_t started_at;
        bool shutting_down;
} Manager;

static RhostRate *rate_free(RhostRate *r) {
        if (!r)
                return NULL;
        free(r->rhost);
        free(r);
        return NULL;
}

static void rates_gc(Manager *m, uint64_t now) {
        while (m->rates && now - m->rates->window_start >= RATE_WINDOW_USEC) {
                RhostRate *r = m->rates;

                m->rates = r->next;
                if (!m->rates)
                        m->rates_last = NULL;
                (void) hashmap_remove(m->rates_by_rhost, r->rhost);
                rate_free(r);
        }
}

/* Counts one new flow from rhost; false when the per-minute limit is reached. */
static int rate_admit(Manager *m, const char *rhost, bool *ret_ok) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        RhostRate *rate;
        int r;

        rates_gc(m, now);
        rate = hashmap_get(m->rates_by_rhost, rhost);
        if (!rate) {
                rate = calloc(1, sizeof *rate);
                if (!rate || !(rate->rhost = strdup(rhost))) {
                        free(rate);
                        return -ENOMEM;
                }
                r = hashmap_put(m->rates_by_rhost, rate->rhost, rate);
                if (r < 0) {
                        rate_free(rate);
                        return r;
                }
                rate->window_start = now;
                if (m->rates_last)
                        m->rates_last->next = rate;
                else
                        m->rates = rate;
                m->rates_last = rate;
        }
        if (rate->count >= m->config->max_new_flows_per_rhost_per_minute) {
                *ret_ok = false;
                return 0;
        }
        rate->count++;
        *ret_ok = true;
        return 0;
}

/* glibc's free() hands memory back to the kernel only from the top of the heap: the pages of free chunks
 * below a live one stay resident. Flows come and go with HTTP buffers and bus messages of many sizes, the
 * holes spread, and the RSS crept up by some 25 bytes per completed flow while the bytes in use stayed flat
 * (bench/README.md, churn). So while there are flows, the free pages go back every TRIM_INTERVAL_USEC; an
 * idle daemon is not woken. */
static void trim_arm(Manager *m) {
        int r;

        r = sd_event_source_set_time_relative(m->trim_timer, TRIM_INTERVAL_USEC);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->trim_timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_debug_errno(r, "Failed to arm the trim timer, ignoring: %m");
}

static int on_trim(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;

        (void) malloc_trim(0);
        if (m->flows.flows)
                trim_arm(m);    /* some are still to be freed */
        return 0;
}

static void trim_later(Manager *m) {
        int enabled;

        if (sd_event_source_get_enabled(m->trim_timer, &enabled) >= 0 && enabled == SD_EVENT_OFF)
                trim_arm(m);
}

/* Who is calling: the effective uid (and the pid, for the audit log) from the bus, never from arguments or
 * /proc. Any error is a refusal (polkit CVE-2021-3560). */
static int caller_identify(sd_bus_message *msg, AuditCaller *ret) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        AuditCaller c;
        int r;

        r = sd_bus_query_sender_creds(msg, SD_BUS_CREDS_EUID | SD_BUS_CREDS_PID | SD_BUS_CREDS_AUGMENT, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &c.uid);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_pid(creds, &c.pid);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

/* What a flow is recorded and counted as. Root's PAM stack (sshd, login, su) vouches for rhost and service.
 * A non-root caller (a screen locker) only claims them: it is recorded as itself, rhost "local:uid=N" and
 * service "local:CLAIM" (or "local"), so no local user writes a remote address into the audit log or spends
 * another source's quota. The source is what the limits count: the rhost (IPv6 by /64), or for a local
 * login without rhost its tty, so that one local user's su does not use up the console's share. */
static int flow_origin(const AuditCaller *caller, const char *rhost, const char *service, const char *tty,
                       char **ret_rhost, char **ret_service, char **ret_source) {
        _cleanup_free_ char *eff_rhost = NULL, *eff_service = NULL, *source = NULL;
        int r;

        if (caller->uid != 0) {
                /* asprintf() leaves its pointer undefined on failure. */
                if (asprintf(&eff_rhost, "local:uid=%u", (unsigned) caller->uid) < 0)
                        eff_rhost = NULL;
                if (asprintf(&eff_service, "local%s%s", service && *service ? ":" : "", strempty(service)) < 0)
                        eff_service = NULL;
                source = eff_rhost ? strdup(eff_rhost) : NULL;
        } else {
                eff_rhost = strdup(strempty(rhost));
                eff_service = strdup(strempty(service));
                if (rhost && *rhost) {
                        r = netaddr_source_key(rhost, &source);
                        if (r < 0)
                                return r;
                } else if (asprintf(&source, "tty:%s", strempty(tty)) < 0)
                        source = NULL;
        }
        if (!eff_rhost || !eff_service || !source)
                return -ENOMEM;
        *ret_rhost = TAKE_PTR(eff_rhost);
        *ret_service = TAKE_PTR(eff_service);
        *ret_source = TAKE_PTR(source);
        return 0;
}

/* rhost is PAM_RHOST as the caller got it: a login from a hostile reverse name still goes through, and the
 * value is sanitised wherever it is used (tests/integration/log-text-safety.sh); only C0 and DEL are refused.
 * Every other context string (service, tty, poll, explain) must be safe as it is. */
static bool context_value_ok(const char *key, const char *s) {
        if (strlen(s) > CONTEXT_VALUE_MAX)
                return false;
        if (!streq(key, "rhost"))
                return text_is_safe(s);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

static int read_context(sd_bus_message *msg, char **rhost, char **service, char **tty, char **poll,
                        char **explain, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(msg, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(msg, 'e', "sv")) > 0) {
                const char *key, *value;
                char **target = NULL;

                r = sd_bus_message_read(msg, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "rhost"))
                        target = rhost;
                else if (streq(key, "service"))
                        target = service;
                else if (streq(key, "tty"))
                        target = tty;
                else if (streq(key, "poll"))
                        target = poll;
                else if (streq(key, "explain"))
                        target = explain;

                if (!target) {
                        r = sd_bus_message_skip(msg, "v");   /* unknown keys: ignored, for compatibility */
                        if (r < 0)
                                return r;
                } else {
                        r = sd_bus_message_read(msg, "v", "s", &value);
                        if (r < 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Context key '%s' must be a string.", key);
                        if (!context_value_ok(key, value))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                         "Context key '%s' has an invalid value.", key);
                        free(*target);
                        *target = strdup(value);
                        if (!*target)
                                return -ENOMEM;
                }
                r = sd_bus_message_exit_container(msg);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(msg);
}

static void audit_start_refused(const char *user, const char *rhost, const char *service,
                                const AuditCaller *caller, const char *why) {
        audit_log(AUDIT_START_REFUSED, &(AuditFields) {
                .user = user, .rhost = rhost, .service = service, .caller = caller, .reason = why });
}

static int method_start_login(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *rhost = NULL, *service = NULL, *tty = NULL, *poll = NULL, *source = NULL,
                *claimed_rhost = NULL, *claimed_service = NULL, *explain = NULL;
        const char *user;
        FlowCounts pending;
        AuditCaller caller;
        bool ok;
        Flow *f;
        int r;

        /* Read → validate → authorise → act → reply. */
        r = sd_bus_message_read(msg, "s", &user);
        if (r < 0)
                return r;
        r = read_context(msg, &claimed_rhost, &claimed_service, &tty, &poll, &explain, error);
        if (r < 0)
                return r;
        if (poll && !streq(poll, "on-demand") && !streq(poll, "background"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Context key 'poll' must be on-demand or background.");
        if (!user_name_is_requestable(user))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid user name.");

        r = caller_identify(msg, &caller);
        if (r < 0) {
                log_warning_errno(r, "Could not read the caller's credentials, refusing: %m");
                return sd_bus_error_setf(error, DEVFLOW_ERROR_NOT_PERMITTED, "Caller credentials unavailable.");
        }
        r = flow_origin(&caller, claimed_rhost, claimed_service, tty, &rhost, &service, &source);
        if (r < 0)
                return r;
        if (caller.uid != 0) {
                /* A non-root caller (a screen locker) may only start a login for its own account. */
                _cleanup_free_ char *own = NULL;

                /* A failed lookup is a refusal too (DESIGN §4: an error while reading who calls). */
                if (user_name_of_uid(caller.uid, &own) < 0 || !streq(own, user)) {
                        audit_start_refused(user, rhost, service, &caller,
                                            "caller may not start a login for this user");
                        return sd_bus_error_setf(error, DEVFLOW_ERROR_NOT_PERMITTED,
                                                 "Not permitted to start a login for another user.");
                }
        }
        if (m->shutting_down)
                return sd_bus_error_setf(error, DEVFLOW_ERROR_SHUTTING_DOWN, "The login service is stopping.");

        /* A non-root caller's rhost is "local:uid=N", which no rule matches. */
        r = rhost_allowed(m->config->allowed_rhosts, rhost, &ok);
        if (r < 0 || !ok) {
                audit_start_refused(user, rhost, service, &caller, "rhost not in allowed_rhosts");
                return sd_bus_error_setf(error, DEVFLOW_ERROR_RHOST_NOT_ALLOWED,
                                         "Logins from this address are not allowed.");
        }

        /* No eviction: a new flow never ends an older one, or whoever fills a user's quota could cancel
         * the user's own pending login. Instead each source gets only a share of a user's quota, so keeping
         * a user out takes max_flows_per_user / max_flows_per_user_per_rhost sources. */
        pending = flow_index_counts(m->flows.pending, user, source);
        if (m->flows.n_active >= m->config->max_flows || pending.user >= m->config->max_flows_per_user ||
            pending.source >= m->config->max_flows_per_rhost ||
            pending.user_source >= m->config->max_flows_per_user_per_rhost) {
                audit_start_refused(user, rhost, service, &caller, "too many pending logins");
                return sd_bus_error_setf(error, DEVFLOW_ERROR_TOO_MANY_FLOWS,
                                         "Too many logins are pending; try again later.");
        }
        r = rate_admit(m, source, &ok);
        if (r < 0)
                return r;
        if (!ok) {
                audit_start_refused(user, rhost, service, &caller, "too many new logins from this address");
                return sd_bus_error_setf(error, DEVFLOW_ERROR_RATE_LIMITED,
                                         "Too many new logins from this address; try again later.");
        }

        r = flow_new(&m->flows, user, rhost, service, tty, source, streq_ptr(poll, "on-demand"), msg, &f);
        if (r < 0)
                return r;
        f->owner_uid = caller.uid;
        f->owner_pid = caller.pid;
        trim_later(m);
        /* Which claims decided is for root only: other callers (and every PAM conversation) get the short
         * message fit for users. */
        f->explain = caller.uid == 0 && streq_ptr(explain, "yes");
        log_info("Flow %s: login for '%s' from '%s' (service '%s') started.", f->id, f->user, f->rhost, f->service);
        r = flow_start(f);
        if (r < 0) {
                flow_free(f);
                return r;
        }
        return 1; /* answered later, once the IdP gave a code */
}

static int check_root(sd_bus_message *msg, sd_bus_error *error) {
        AuditCaller caller;

        if (caller_identify(msg, &caller) < 0 || caller.uid != 0)
                return sd_bus_error_setf(error, DEVFLOW_ERROR_NOT_PERMITTED, "Only root may do this.");
        return 0;
}

static int method_list_flows(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Manager *m = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        r = check_root(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(msg, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', DEVFLOW_FLOW_ROW);
        if (r < 0)
                return r;
        for (Flow *f = m->flows.flows; f; f = f->next) {
                r = sd_bus_message_append(reply, DEVFLOW_FLOW_ROW, f->id, f->user, f->rhost, f->service,
                                          f->done ? (f->error_name ? "refused" : "approved") :
                                                    flow_state_to_string(f->machine.state),
                                          now - f->machine.started, f->expires_realtime, f->machine.n_polls);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_cancel_flow(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *id;
        Flow *f;
        int r;

        r = check_root(msg, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(msg, "s", &id);
        if (r < 0)
                return r;
        f = hashmap_get(m->flows.by_id, id);
        if (!f)
                return sd_bus_error_setf(error, DEVFLOW_ERROR_NO_SUCH_FLOW, "No such flow.");
        flow_cancel(f, "The login was cancelled by the administrator.");
        return sd_bus_reply_method_return(msg, NULL);
}

static int method_get_status(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        r = check_root(msg, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(
                msg, "a{sv}", /* the number of entries below= */ 11,
                "Version", "s", DEVFLOW_VERSION,
                "Issuer", "s", strempty(m->config->issuer),
                "IdpReachable", "b", idp_reachable(m->flows.idp),
                "IdpLastRequestAgeUSec", "t", idp_last_request_age_usec(m->flows.idp, now),
                "DiscoveryAgeUSec", "t", idp_discovery_age_usec(m->flows.idp, now),
                "JwksAgeUSec", "t", idp_jwks_age_usec(m->flows.idp, now),
                "ActiveFlows", "u", m->flows.n_active,
                "FlowsStarted", "t", m->flows.n_started,
                "FlowsApproved", "t", m->flows.n_approved,
                "UptimeUSec", "t", now - m->started_at,
                "ForgedSignalsDropped", "t", m->n_forged_signals);
}

/* Flow objects: only the connection that started a flow may touch it. */
static int find_flow(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                     sd_bus_error *error) {
        Manager *m = userdata;
        _cleanup_free_ char *id = NULL;
        Flow *f;
        int r;

        r = sd_bus_path_decode(path, DEVFLOW_FLOW_PATH_PREFIX, &id);
        if (r <= 0)
                return 0;
        f = hashmap_get(m->flows.by_id, id);
        if (!f)
                return 0;
        *found = f;
        return 1;
}

static int check_owner(Flow *f, sd_bus_message *msg, sd_bus_error *error) {
        if (!streq_ptr(sd_bus_message_get_sender(msg), f->owner))
                return sd_bus_error_setf(error, DEVFLOW_ERROR_NOT_PERMITTED, "This flow belongs to another caller.");
        return 0;
}

static int method_wait(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Flow *f = userdata;
        int r;

        r = check_owner(f, msg, error);
        if (r < 0)
                return r;
        return flow_add_wait(f, msg);
}

static int method_poll(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Flow *f = userdata;
        int r;

        r = check_owner(f, msg, error);
        if (r < 0)
                return r;
        return flow_poll_now(f, msg);
}

static int method_cancel(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Flow *f = userdata;
        int r;

        r = check_owner(f, msg, error);
        if (r < 0)
                return r;
        flow_cancel(f, "The login was cancelled.");
        return sd_bus_reply_method_return(msg, NULL);
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("StartLogin",
                                SD_BUS_ARGS("s", user, "a{sv}", context),
                                SD_BUS_RESULT("o", flow, "s", user_code, "s", verification_uri,
                                              "s", verification_uri_complete, "t", expires_usec, "t", interval_usec),
                                method_start_login, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListFlows",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a" DEVFLOW_FLOW_ROW, flows),
                                method_list_flows, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("CancelFlow",
                                SD_BUS_ARGS("s", id),
                                SD_BUS_NO_RESULT,
                                method_cancel_flow, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetStatus",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("a{sv}", status),
                                method_get_status, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static const sd_bus_vtable flow_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Wait",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("b", allowed, "s", local_user, "s", message),
                                method_wait, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Poll",
                                SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("t", next_poll_usec),
                                method_poll, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Cancel", NULL, NULL, method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END
};

static int on_sigterm(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Stopping: cancelling %u pending logins.", m->flows.n_active);
        m->shutting_down = true;
        for (Flow *f = m->flows.flows; f; f = f->next)
                if (!f->done)
                        flow_cancel(f, "The login service is stopping.");
        (void) sd_bus_flush(m->flows.bus);
        return sd_event_exit(m->flows.event, 0);
}

/* Seen before any match or object handler. dbus-daemon delivers a unicast signal from any peer its policy lets
 * through, and sd-bus, which knows a sender only by its unique name, does not hold a match's
 * sender='org.freedesktop.DBus' against it: a forged NameOwnerChanged would make sd_bus_track believe that a
 * caller went away and cancel its login. The bus driver's interface is believed only from the bus driver. */
static int on_bus_message(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;
        const char *sender;

        if (!sd_bus_message_is_signal(msg, "org.freedesktop.DBus", NULL))
                return 0;
        sender = sd_bus_message_get_sender(msg);
        if (streq_ptr(sender, "org.freedesktop.DBus"))
                return 0;
        /* One warning, not one per message: a flood would otherwise fill the journal. */
        if (m->n_forged_signals++ == 0)
                log_warning("Dropped a forged org.freedesktop.DBus.%s signal from %s "
                            "(more are counted in GetStatus).",
                            strna(sd_bus_message_get_member(msg)), strna(sender));
        return 1;
}

/* Without its bus the daemon can answer nobody; a new one is activated when the bus is back. */
static int on_bus_disconnected(sd_bus_message *msg, void *userdata, sd_bus_error *error) {
        Manager *m = userdata;

        log_error("Lost the connection to the system bus: cancelling %u pending logins and exiting.",
                  m->flows.n_active);
        m->shutting_down = true;
        m->bus_lost = true;
        for (Flow *f = m->flows.flows; f; f = f->next)
                if (!f->done)
                        flow_cancel(f, "The login service lost its bus.");
        return sd_event_exit(m->flows.event, -ENOTCONN);
}

static Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;
        while (m->flows.flows)
                flow_free(m->flows.flows);
        flow_context_done(&m->flows);
        timer_queue_free(m->flows.timers);
        while (m->rates) {
                RhostRate *r = m->rates;
                m->rates = r->next;
                rate_free(r);
        }
        hashmap_free(m->rates_by_rhost);
        sd_event_source_disable_unref(m->trim_timer);
        idp_free(m->flows.idp);
        http_free(m->flows.http);
        usermap_free(m->flows.usermap);
        EVP_PKEY_free(m->flows.client_key);
        sd_bus_flush_close_unref(m->flows.bus);
        sd_event_unref(m->flows.event);
        free(m);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(Manager *, manager_free);

static int manager_load_keys(Manager *m) {
        Config *c = m->config;
        int r;

        if (c->map_file) {
                _cleanup_free_ char *why = NULL;
                r = usermap_load(c->map_file, &m->flows.usermap, &why);
                if (r < 0)
                        return log_error_errno(r, "Failed to load map_file %s: %s", c->map_file, strna(why));
        }
        if (c->client_auth == CLIENT_AUTH_PRIVATE_KEY_JWT) {
                _cleanup_free_ char *why = NULL;
                char *pem = NULL;

                r = read_secure_file(c->client_key_file, 64 * 1024, &pem, &why);
                if (r < 0)
                        return log_error_errno(r, "Failed to read client_key_file %s: %s", c->client_key_file, strna(why));
                r = jws_load_private_key_pem(pem, strlen(pem), &m->flows.client_key);
                erase_and_free(pem);
                if (r < 0)
                        return log_error_errno(r, "client_key_file %s holds no usable RSA or EC private key.",
                                               c->client_key_file);
        }
        return 0;
}

int manager_run(Config *config) {
        _cleanup_(manager_freep) Manager *m = NULL;
        sigset_t ss;
        int r;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return log_error_errno(EIO, "Failed to initialise libcurl.");

        m = calloc(1, sizeof *m);
        if (!m)
                return log_oom();
        m->config = config;
        m->flows.config = config;
        r = hashmap_new(&m->rates_by_rhost);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the rate table: %m");

        r = manager_load_keys(m);
        if (r < 0)
                return r;

        r = sd_event_default(&m->flows.event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate the event loop: %m");
        r = timer_queue_new(m->flows.event, FLOW_TIMER_ACCURACY_USEC, &m->flows.timers);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the flows' timer: %m");
        m->started_at = now_usec(CLOCK_MONOTONIC);

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(errno, "Failed to block signals: %m");
        r = sd_event_add_signal(m->flows.event, NULL, SIGTERM, on_sigterm, m);
        if (r >= 0)
                r = sd_event_add_signal(m->flows.event, NULL, SIGINT, on_sigterm, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch signals: %m");
        (void) signal(SIGPIPE, SIG_IGN);
        r = sd_event_add_time_relative(m->flows.event, &m->trim_timer, CLOCK_MONOTONIC, TRIM_INTERVAL_USEC,
                                       /* accuracy= */ USEC_PER_SEC, on_trim, m);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->trim_timer, SD_EVENT_OFF);
        if (r < 0)
                return log_error_errno(r, "Failed to add the trim timer: %m");

        r = http_new(m->flows.event, &(HttpOptions) {
                        .ca_file = config->ca_file,
                        .client_cert_file = config->client_auth == CLIENT_AUTH_TLS_CLIENT_AUTH ? config->client_cert_file : NULL,
                        .client_key_file = config->client_auth == CLIENT_AUTH_TLS_CLIENT_AUTH ? config->client_key_file : NULL,
                        .timeout_usec = config->http_timeout_usec,
                        .allow_http_loopback = config->allow_http_loopback,
                     }, &m->flows.http);
        if (r < 0)
                return log_error_errno(r, "Failed to set up HTTP: %m");
        r = idp_new(m->flows.event, m->flows.http, config, &m->flows.idp);
        if (r < 0)
                return log_oom();

        r = sd_bus_open_system(&m->flows.bus);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        r = sd_bus_add_filter(m->flows.bus, NULL, on_bus_message, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the bus filter: %m");
        r = sd_bus_match_signal(m->flows.bus, NULL, "org.freedesktop.DBus.Local", "/org/freedesktop/DBus/Local",
                                "org.freedesktop.DBus.Local", "Disconnected", on_bus_disconnected, m);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the bus connection: %m");
        r = flow_context_watch_callers(&m->flows);
        if (r < 0)
                return log_error_errno(r, "Failed to watch for callers that leave: %m");
        r = sd_bus_add_object_vtable(m->flows.bus, NULL, DEVFLOW_BUS_PATH, DEVFLOW_MANAGER_IFACE, manager_vtable, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the manager object: %m");
        r = sd_bus_add_fallback_vtable(m->flows.bus, NULL, DEVFLOW_FLOW_PATH_PREFIX, DEVFLOW_FLOW_IFACE, flow_vtable,
                                       find_flow, m);
        if (r < 0)
                return log_error_errno(r, "Failed to add the flow objects: %m");
        r = sd_bus_attach_event(m->flows.bus, m->flows.event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        r = sd_bus_request_name(m->flows.bus, DEVFLOW_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to take the bus name %s: %m", DEVFLOW_BUS_NAME);

        idp_start(m->flows.idp);
        log_info("devflowd %s running for %s.", DEVFLOW_VERSION, strna(config->issuer));

        r = sd_event_loop(m->flows.event);
        if (r < 0)
                return m->bus_lost ? r : log_error_errno(r, "Event loop failed: %m");
        return 0;
}
