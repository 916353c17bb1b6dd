/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <security/pam_modules.h>
#include <string.h>
#include <time.h>

#include "bus.h"
#include "devflow-bus.h"
#include "macro.h"

uint64_t bus_now(clockid_t clock) {
        struct timespec ts;

        if (clock_gettime(clock, &ts) < 0)
                return 0;
        return (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

void bus_login_info_done(LoginInfo *info) {
        if (!info)
                return;
        free(info->flow_path);
        free(info->user_code);
        free(info->uri);
        free(info->uri_complete);
        *info = (LoginInfo) {};
}

void bus_outcome_done(Outcome *o) {
        if (!o)
                return;
        sd_bus_error_free(&o->bus_error);
        free(o->local_user);
        free(o->message);
        *o = OUTCOME_NULL;
}

static const struct {
        const char *name;
        int pam;
} error_table[] = {
        { DEVFLOW_ERROR_DENIED,                         PAM_AUTH_ERR },
        { DEVFLOW_ERROR_WRONG_USER,                     PAM_AUTH_ERR },
        { DEVFLOW_ERROR_EXPIRED,                        PAM_AUTH_ERR },
        { DEVFLOW_ERROR_CANCELLED,                      PAM_AUTH_ERR },
        { DEVFLOW_ERROR_TOKEN_INVALID,                  PAM_AUTH_ERR },
        { DEVFLOW_ERROR_NOT_PERMITTED,                  PAM_AUTH_ERR },
        { DEVFLOW_ERROR_RHOST_NOT_ALLOWED,              PAM_AUTH_ERR },
        { DEVFLOW_ERROR_NO_SUCH_FLOW,                   PAM_AUTH_ERR },
        { DEVFLOW_ERROR_UNKNOWN_USER,                   PAM_USER_UNKNOWN },
        { DEVFLOW_ERROR_IDP_UNAVAILABLE,                PAM_AUTHINFO_UNAVAIL },
        { DEVFLOW_ERROR_IDP_ERROR,                      PAM_AUTHINFO_UNAVAIL },
        { DEVFLOW_ERROR_SHUTTING_DOWN,                  PAM_AUTHINFO_UNAVAIL },
        { DEVFLOW_ERROR_TOO_MANY_FLOWS,                 PAM_MAXTRIES },
        { DEVFLOW_ERROR_RATE_LIMITED,                   PAM_MAXTRIES },
        /* the daemon is absent, vanished, or does not answer: a stack may fall back */
        { SD_BUS_ERROR_SERVICE_UNKNOWN,                 PAM_AUTHINFO_UNAVAIL },
        { SD_BUS_ERROR_NAME_HAS_NO_OWNER,               PAM_AUTHINFO_UNAVAIL },
        { SD_BUS_ERROR_NO_REPLY,                        PAM_AUTHINFO_UNAVAIL },
        { SD_BUS_ERROR_DISCONNECTED,                    PAM_AUTHINFO_UNAVAIL },
        { SD_BUS_ERROR_TIMEOUT,                         PAM_AUTHINFO_UNAVAIL },
        { "org.freedesktop.DBus.Error.TimedOut",                      PAM_AUTHINFO_UNAVAIL },
        { SD_BUS_ERROR_NO_SERVER,                       PAM_AUTHINFO_UNAVAIL },
        { SD_BUS_ERROR_NO_NETWORK,                      PAM_AUTHINFO_UNAVAIL },
        { SD_BUS_ERROR_UNKNOWN_OBJECT,                  PAM_AUTHINFO_UNAVAIL },  /* daemon restarted: flow gone */
        { SD_BUS_ERROR_NO_MEMORY,                       PAM_BUF_ERR },
};

/* Local errors that mean "cannot reach the daemon". */
static bool errno_is_unreachable(int e) {
        switch (e) {
        case -ENOENT: case -ECONNREFUSED: case -ECONNRESET: case -ECONNABORTED: case -ENOTCONN:
        case -ETIMEDOUT: case -EPIPE: case -ESHUTDOWN: case -EHOSTDOWN: case -ENOBUFS:
                return true;
        default:
                return false;
        }
}

int bus_outcome_to_pam(const Outcome *o, const char *pam_user) {
        if (!o)
                return PAM_AUTH_ERR;
        if (o->conv_failed)
                return PAM_CONV_ERR;
        if (o->typed_answer)
                return PAM_AUTH_ERR;    /* not an Enter: the login ends; a password module after us may run */
        if (o->error == -ENOMEM)
                return PAM_BUF_ERR;
        if (sd_bus_error_is_set(&o->bus_error)) {
                const char *name = o->bus_error.name;

                for (size_t i = 0; i < ELEMENTSOF(error_table); i++)
                        if (streq(name, error_table[i].name))
                                return error_table[i].pam;
                /* D-Bus could not start the daemon (activation) */
                if (strncmp(name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0)
                        return PAM_AUTHINFO_UNAVAIL;
                return PAM_AUTH_ERR;
        }
        if (o->error < 0)
                return errno_is_unreachable(o->error) ? PAM_AUTHINFO_UNAVAIL : PAM_AUTH_ERR;
        if (o->timed_out || !o->have_verdict)
                return PAM_AUTH_ERR;

        /* DESIGN §4: the approving identity must be the PAM user, whole strings, byte for byte. */
        if (o->allowed && o->local_user && pam_user && *pam_user && strcmp(o->local_user, pam_user) == 0)
                return PAM_SUCCESS;
        return PAM_AUTH_ERR;
}

bool bus_outcome_is_expired(const Outcome *o) {
        return o && o->done && sd_bus_error_has_name(&o->bus_error, DEVFLOW_ERROR_EXPIRED);
}

int bus_open(sd_bus **ret) {
        _cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
        int r;

        assert(ret);

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        r = sd_bus_set_method_call_timeout(bus, BUS_CALL_TIMEOUT_USEC);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(bus);
        return 0;
}

static int strdup_checked(const char *s, char **ret) {
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int bus_start_login(sd_bus *bus, const char *user, const char *rhost, const char *service, const char *tty,
                    const char *poll, uint64_t timeout_usec, sd_bus_error *error, LoginInfo *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(bus_login_info_done) LoginInfo info = {};
        const char *flow, *code, *uri, *uri_complete;
        const struct { const char *key, *value; } ctx[] = {
                { "rhost", rhost }, { "service", service }, { "tty", tty }, { "poll", poll },
        };
        uint64_t expires, interval;
        int r;

        assert(bus);
        assert(user);
        assert(ret);

        r = sd_bus_message_new_method_call(bus, &m, DEVFLOW_BUS_NAME, DEVFLOW_BUS_PATH, DEVFLOW_MANAGER_IFACE,
                                           "StartLogin");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", user);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(ctx); i++) {
                if (!ctx[i].value || !*ctx[i].value)
                        continue;
                r = sd_bus_message_append(m, "{sv}", ctx[i].key, "s", ctx[i].value);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;

        r = sd_bus_call(bus, m, timeout_usec, error, &reply);
        if (r < 0)
                return r;

        /* A reply of another shape is a failure, never a partial success. */
        if (!sd_bus_message_has_signature(reply, "ossstt"))
                return -EBADMSG;
        r = sd_bus_message_read(reply, "ossstt", &flow, &code, &uri, &uri_complete, &expires, &interval);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (strncmp(flow, DEVFLOW_FLOW_PATH_PREFIX, strlen(DEVFLOW_FLOW_PATH_PREFIX)) != 0 || !*code || !*uri)
                return -EBADMSG;

        if (strdup_checked(flow, &info.flow_path) < 0 || strdup_checked(code, &info.user_code) < 0 ||
            strdup_checked(uri, &info.uri) < 0 || strdup_checked(uri_complete, &info.uri_complete) < 0)
                return -ENOMEM;
        info.expires_usec = expires;
        info.interval_usec = interval;

        *ret = info;
        info = (LoginInfo) {};
        return 0;
}

static int on_wait_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Outcome *o = userdata;
        const sd_bus_error *e;
        const char *local_user, *message;
        int allowed, r;

        o->done = true;

        e = sd_bus_message_get_error(m);
        if (e) {
                r = sd_bus_error_copy(&o->bus_error, e);
                if (r < 0 && !sd_bus_error_is_set(&o->bus_error))
                        o->error = r;
                return 0;
        }

        if (!sd_bus_message_has_signature(m, "bss")) {
                o->error = -EBADMSG;
                return 0;
        }
        r = sd_bus_message_read(m, "bss", &allowed, &local_user, &message);
        if (r < 0) {
                o->error = r == -ENOMEM ? r : -EBADMSG;
                return 0;
        }
        o->local_user = strdup(local_user);
        o->message = strdup(message);
        if (!o->local_user || !o->message) {
                o->error = -ENOMEM;
                return 0;
        }
        o->allowed = allowed;
        o->have_verdict = true;
        return 0;
}

int bus_wait_begin(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, Outcome *o, sd_bus_slot **ret_slot) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        assert(bus);
        assert(flow_path);
        assert(o);
        assert(ret_slot);

        r = sd_bus_message_new_method_call(bus, &m, DEVFLOW_BUS_NAME, flow_path, DEVFLOW_FLOW_IFACE, "Wait");
        if (r < 0)
                return r;
        /* The reply is deferred until the flow ends: the timeout is the caller's, not the default. */
        return sd_bus_call_async(bus, ret_slot, m, on_wait_reply, o, timeout_usec);
}

int bus_wait_until(sd_bus *bus, const Outcome *o, uint64_t deadline_usec) {
        int r;

        assert(bus);
        assert(o);

        for (;;) {
                uint64_t now;

                if (o->done)
                        return 1;

                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        return o->done ? 1 : r;
                if (r > 0)
                        continue;

                now = bus_now(CLOCK_MONOTONIC);
                if (now >= deadline_usec)
                        return 0;

                r = sd_bus_wait(bus, deadline_usec - now);
                if (r < 0 && r != -EINTR)
                        return r;
        }
}

int bus_poll(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error,
             uint64_t *ret_next_poll_usec) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        uint64_t next;
        int r;

        assert(bus);
        assert(flow_path);

        r = sd_bus_message_new_method_call(bus, &m, DEVFLOW_BUS_NAME, flow_path, DEVFLOW_FLOW_IFACE, "Poll");
        if (r < 0)
                return r;
        /* answered after the poll, which may wait out the interval: the caller bounds it */
        r = sd_bus_call(bus, m, timeout_usec, error, &reply);
        if (r < 0)
                return r;
        if (!sd_bus_message_has_signature(reply, "t"))
                return -EBADMSG;
        r = sd_bus_message_read(reply, "t", &next);
        if (r < 0)
                return -EBADMSG;
        if (ret_next_poll_usec)
                *ret_next_poll_usec = next;
        return 0;
}

int bus_cancel(sd_bus *bus, const char *flow_path, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        assert(bus);
        assert(flow_path);

        r = sd_bus_message_new_method_call(bus, &m, DEVFLOW_BUS_NAME, flow_path, DEVFLOW_FLOW_IFACE, "Cancel");
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, BUS_SHORT_CALL_TIMEOUT_USEC, error, NULL);
}
