/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "devflow-bus.h"
#include "devflow-client.h"
#include "macro.h"

void devflow_login_done(DevflowLogin *login) {
        if (!login)
                return;
        free(login->flow_path);
        free(login->user_code);
        free(login->uri);
        free(login->uri_complete);
        *login = (DevflowLogin) {};
}

bool devflow_error_is_unreachable(const sd_bus_error *e, int r) {
        if (e && sd_bus_error_is_set(e))
                return sd_bus_error_has_names(e,
                                              SD_BUS_ERROR_SERVICE_UNKNOWN,
                                              SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                              SD_BUS_ERROR_NO_REPLY,
                                              SD_BUS_ERROR_DISCONNECTED,
                                              SD_BUS_ERROR_TIMEOUT,
                                              "org.freedesktop.DBus.Error.TimedOut",
                                              SD_BUS_ERROR_NO_SERVER,
                                              SD_BUS_ERROR_NO_NETWORK,
                                              /* the daemon restarted: the flow object is gone with it */
                                              SD_BUS_ERROR_UNKNOWN_OBJECT,
                                              /* activation (dbus-daemon, or systemd behind it) failed */
                                              "org.freedesktop.systemd1.NoSuchUnit",
                                              "org.freedesktop.systemd1.UnitMasked") ||
                       strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.",
                               strlen("org.freedesktop.DBus.Error.Spawn.")) == 0;

        /* No bus at all, or the connection broke. */
        switch (r) {
        case -ENOENT: case -ECONNREFUSED: case -ECONNRESET: case -ECONNABORTED: case -ENOTCONN:
        case -ETIMEDOUT: case -EPIPE: case -ESHUTDOWN: case -EHOSTDOWN: case -ENOBUFS:
                return true;
        default:
                return false;
        }
}

const char *devflow_error_short_name(const char *name) {
        size_t k = strlen(DEVFLOW_ERROR_PREFIX);

        return name && strncmp(name, DEVFLOW_ERROR_PREFIX, k) == 0 ? name + k : name;
}

/* An error reply to an asynchronous call becomes what sd_bus_call() would have returned: -errno, *error set. */
static int reply_error(sd_bus_message *reply, sd_bus_error *error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int r;

        if (!e)
                return 0;
        r = sd_bus_message_get_errno(reply);
        if (error) {
                int k = sd_bus_error_copy(error, e);
                if (k < 0 && !sd_bus_error_is_set(error))
                        return k;
        }
        return r > 0 ? -r : -EIO;
}

/* The reply's error, or its arguments when it has exactly that signature: a reply of another shape is a
 * failure, never a partial success. */
static int reply_read(sd_bus_message *reply, sd_bus_error *error, const char *signature, ...) {
        va_list ap;
        int r;

        assert(reply);

        r = reply_error(reply, error);
        if (r < 0)
                return r;
        if (!sd_bus_message_has_signature(reply, signature))
                return -EBADMSG;
        if (!*signature)
                return 0;
        va_start(ap, signature);
        r = sd_bus_message_readv(reply, signature, ap);
        va_end(ap);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        return 0;
}

static int new_flow_call(sd_bus *bus, const char *flow_path, const char *method, sd_bus_message **ret) {
        assert(bus);
        assert(ret);

        /* Only the daemon's own flow objects: a path from elsewhere is a programming error or a forgery. */
        if (!flow_path || strncmp(flow_path, DEVFLOW_FLOW_PATH_PREFIX, strlen(DEVFLOW_FLOW_PATH_PREFIX)) != 0)
                return -EINVAL;
        return sd_bus_message_new_method_call(bus, ret, DEVFLOW_BUS_NAME, flow_path, DEVFLOW_FLOW_IFACE, method);
}

static int flow_call_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *flow_path, const char *method,
                           uint64_t timeout_usec, sd_bus_message_handler_t callback, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_flow_call(bus, flow_path, method, &m);
        if (r < 0)
                return r;
        return sd_bus_call_async(bus, ret_slot, m, callback, userdata, timeout_usec);
}

static int new_start_login(sd_bus *bus, const char *user, const DevflowLoginContext *ctx, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        const DevflowLoginContext empty = {};
        int r;

        assert(bus);
        assert(user);
        assert(ret);

        if (!ctx)
                ctx = &empty;
        const struct { const char *key, *value; } fields[] = {
                { "rhost", ctx->rhost }, { "service", ctx->service }, { "tty", ctx->tty },
                { "poll", ctx->poll }, { "explain", ctx->explain },
        };

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
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                if (!fields[i].value || !*fields[i].value)
                        continue;
                r = sd_bus_message_append(m, "{sv}", fields[i].key, "s", fields[i].value);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(m);
        return 0;
}

static int strdup_to(const char *s, char **ret) {
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int devflow_start_login_reply_read(sd_bus_message *reply, sd_bus_error *error, DevflowLogin *ret) {
        _cleanup_(devflow_login_done) DevflowLogin login = {};
        const char *flow, *code, *uri, *uri_complete;
        uint64_t expires, interval;
        int r;

        assert(ret);

        r = reply_read(reply, error, "ossstt", &flow, &code, &uri, &uri_complete, &expires, &interval);
        if (r < 0)
                return r;
        if (strncmp(flow, DEVFLOW_FLOW_PATH_PREFIX, strlen(DEVFLOW_FLOW_PATH_PREFIX)) != 0 || !*code || !*uri)
                return -EBADMSG;

        if (strdup_to(flow, &login.flow_path) < 0 || strdup_to(code, &login.user_code) < 0 ||
            strdup_to(uri, &login.uri) < 0 || strdup_to(uri_complete, &login.uri_complete) < 0)
                return -ENOMEM;
        login.expires_usec = expires;
        login.interval_usec = interval;

        *ret = login;
        login = (DevflowLogin) {};
        return 0;
}

int devflow_start_login(sd_bus *bus, const char *user, const DevflowLoginContext *ctx, uint64_t timeout_usec,
                        sd_bus_error *error, DevflowLogin *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        assert(ret);

        r = new_start_login(bus, user, ctx, &m);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, timeout_usec, error, &reply);
        if (r < 0)
                return r;
        return devflow_start_login_reply_read(reply, error, ret);
}

int devflow_start_login_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *user, const DevflowLoginContext *ctx,
                              uint64_t timeout_usec, sd_bus_message_handler_t callback, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_start_login(bus, user, ctx, &m);
        if (r < 0)
                return r;
        return sd_bus_call_async(bus, ret_slot, m, callback, userdata, timeout_usec);
}

int devflow_wait_reply_read(sd_bus_message *reply, sd_bus_error *error, DevflowVerdict *ret) {
        const char *local_user, *message;
        int allowed, r;

        assert(ret);

        r = reply_read(reply, error, "bss", &allowed, &local_user, &message);
        if (r < 0)
                return r;

        *ret = (DevflowVerdict) {
                .allowed = allowed,
                .local_user = local_user,
                .message = message,
        };
        return 0;
}

int devflow_wait(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error,
                 sd_bus_message **ret_reply, DevflowVerdict *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        assert(ret_reply);
        assert(ret);

        r = new_flow_call(bus, flow_path, "Wait", &m);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, timeout_usec, error, &reply);
        if (r < 0)
                return r;
        r = devflow_wait_reply_read(reply, error, ret);
        if (r < 0)
                return r;
        *ret_reply = TAKE_PTR(reply);
        return 0;
}

int devflow_wait_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *flow_path, uint64_t timeout_usec,
                       sd_bus_message_handler_t callback, void *userdata) {
        return flow_call_async(bus, ret_slot, flow_path, "Wait", timeout_usec, callback, userdata);
}

int devflow_poll_reply_read(sd_bus_message *reply, sd_bus_error *error, uint64_t *ret_next_poll_usec) {
        uint64_t next;
        int r;

        r = reply_read(reply, error, "t", &next);
        if (r < 0)
                return r;
        if (ret_next_poll_usec)
                *ret_next_poll_usec = next;
        return 0;
}

int devflow_poll(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error,
                 uint64_t *ret_next_poll_usec) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        r = new_flow_call(bus, flow_path, "Poll", &m);
        if (r < 0)
                return r;
        /* answered after the poll, which may wait out the interval: the caller bounds it */
        r = sd_bus_call(bus, m, timeout_usec, error, &reply);
        if (r < 0)
                return r;
        return devflow_poll_reply_read(reply, error, ret_next_poll_usec);
}

int devflow_poll_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *flow_path, uint64_t timeout_usec,
                       sd_bus_message_handler_t callback, void *userdata) {
        return flow_call_async(bus, ret_slot, flow_path, "Poll", timeout_usec, callback, userdata);
}

int devflow_reply_read_empty(sd_bus_message *reply, sd_bus_error *error) {
        return reply_read(reply, error, "");
}

int devflow_cancel(sd_bus *bus, const char *flow_path, uint64_t timeout_usec, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = new_flow_call(bus, flow_path, "Cancel", &m);
        if (r < 0)
                return r;
        r = sd_bus_call(bus, m, timeout_usec, error, NULL);
        return r < 0 ? r : 0;
}

int devflow_cancel_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *flow_path, uint64_t timeout_usec,
                         sd_bus_message_handler_t callback, void *userdata) {
        return flow_call_async(bus, ret_slot, flow_path, "Cancel", timeout_usec, callback, userdata);
}

static int manager_call(sd_bus *bus, const char *method, const char *reply_signature, uint64_t timeout_usec,
                        sd_bus_error *error, sd_bus_message **ret_reply, const char *arg) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        int r;

        assert(bus);

        r = sd_bus_message_new_method_call(bus, &m, DEVFLOW_BUS_NAME, DEVFLOW_BUS_PATH, DEVFLOW_MANAGER_IFACE,
                                           method);
        if (r < 0)
                return r;
        if (arg) {
                r = sd_bus_message_append(m, "s", arg);
                if (r < 0)
                        return r;
        }
        r = sd_bus_call(bus, m, timeout_usec, error, &reply);
        if (r < 0)
                return r;
        if (!sd_bus_message_has_signature(reply, reply_signature))
                return -EBADMSG;
        if (ret_reply)
                *ret_reply = TAKE_PTR(reply);
        return 0;
}

int devflow_cancel_flow(sd_bus *bus, const char *id, uint64_t timeout_usec, sd_bus_error *error) {
        assert(id);
        return manager_call(bus, "CancelFlow", "", timeout_usec, error, NULL, id);
}

void devflow_status_done(DevflowStatus *status) {
        if (!status)
                return;
        free(status->version);
        free(status->issuer);
        *status = (DevflowStatus) {};
}

static int read_status(sd_bus_message *reply, DevflowStatus *s) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        for (;;) {
                const char *key, *contents, *str;
                int b;

                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                r = sd_bus_message_read(reply, "s", &key);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(reply, NULL, &contents);
                if (r < 0)
                        return r;

                if (streq(contents, "s") && (streq(key, "Version") || streq(key, "Issuer"))) {
                        char **p = streq(key, "Version") ? &s->version : &s->issuer;

                        r = sd_bus_message_read(reply, "v", "s", &str);
                        if (r >= 0) {
                                free(*p);
                                *p = strdup(str);
                                if (!*p)
                                        return -ENOMEM;
                        }
                } else if (streq(contents, "b") && streq(key, "IdpReachable")) {
                        r = sd_bus_message_read(reply, "v", "b", &b);
                        s->idp_reachable = !!b;
                } else if (streq(contents, "u") && streq(key, "ActiveFlows"))
                        r = sd_bus_message_read(reply, "v", "u", &s->active_flows);
                else if (streq(contents, "t") && streq(key, "IdpLastRequestAgeUSec"))
                        r = sd_bus_message_read(reply, "v", "t", &s->idp_last_request_age_usec);
                else if (streq(contents, "t") && streq(key, "DiscoveryAgeUSec"))
                        r = sd_bus_message_read(reply, "v", "t", &s->discovery_age_usec);
                else if (streq(contents, "t") && streq(key, "JwksAgeUSec"))
                        r = sd_bus_message_read(reply, "v", "t", &s->jwks_age_usec);
                else if (streq(contents, "t") && streq(key, "FlowsStarted"))
                        r = sd_bus_message_read(reply, "v", "t", &s->flows_started);
                else if (streq(contents, "t") && streq(key, "FlowsApproved"))
                        r = sd_bus_message_read(reply, "v", "t", &s->flows_approved);
                else if (streq(contents, "t") && streq(key, "UptimeUSec"))
                        r = sd_bus_message_read(reply, "v", "t", &s->uptime_usec);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(reply);
}

int devflow_get_status(sd_bus *bus, uint64_t timeout_usec, sd_bus_error *error, DevflowStatus *ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(devflow_status_done) DevflowStatus s = {
                .idp_reachable = -1,
                .idp_last_request_age_usec = USEC_INFINITY,
                .discovery_age_usec = USEC_INFINITY,
                .jwks_age_usec = USEC_INFINITY,
        };
        int r;

        assert(ret);

        r = manager_call(bus, "GetStatus", "a{sv}", timeout_usec, error, &reply, NULL);
        if (r < 0)
                return r;
        r = read_status(reply, &s);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        /* Reachability is what the last request found, and means nothing before there was one. */
        if (s.idp_last_request_age_usec == USEC_INFINITY)
                s.idp_reachable = -1;

        *ret = s;
        s = (DevflowStatus) {};
        return 0;
}

int devflow_list_flows(sd_bus *bus, uint64_t timeout_usec, sd_bus_error *error, sd_bus_message **ret_reply) {
        return manager_call(bus, "ListFlows", "a" DEVFLOW_FLOW_ROW, timeout_usec, error, ret_reply, NULL);
}
