/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The D-Bus interface between pam_devflow.so and devflowd. Versioned by the "1" in every name:
 * an incompatible change gets a new name, never a new meaning for an old one. */

#define DEVFLOW_BUS_NAME        "net.devflow.Devflow1"
#define DEVFLOW_BUS_PATH        "/net/devflow/Devflow1"
#define DEVFLOW_MANAGER_IFACE   "net.devflow.Devflow1.Manager"
#define DEVFLOW_FLOW_IFACE      "net.devflow.Devflow1.Flow"
#define DEVFLOW_FLOW_PATH_PREFIX "/net/devflow/Devflow1/flow"

/* The whole API, with its errors and who may call, is in devflowd(8) "BUS INTERFACE".
 *
 * Manager (DEVFLOW_BUS_PATH):
 *   StartLogin(s user, a{sv} context) → (o flow, s user_code, s verification_uri,
 *                                        s verification_uri_complete, t expires_usec, t interval_usec)
 *       uid 0 for any user, any other uid for its own account only.
 *       context keys (all optional, type s): "rhost", "service", "tty", and "poll": "background" (default:
 *       the daemon polls at the IdP's interval) or "on-demand" (prompt=enter: it polls only when Poll() asks,
 *       so the Enter after approval gets an answer one round trip later), and "explain": "yes" (root callers
 *       only, devflowctl test-login: Wait()'s message names the claims that decided, or the rule that
 *       refused). Other keys are ignored.
 *       From a non-root caller rhost and service are claims: the flow is recorded with rhost
 *       "local:uid=N" and service "local:SERVICE".
 *       expires_usec is CLOCK_REALTIME in µs; verification_uri_complete may be "".
 *   ListFlows() → a DEVFLOW_FLOW_ROW: (s id, s user, s rhost, s service, s state, t age_usec,
 *                                      t expires_usec, u polls)                     root only
 *       age_usec: CLOCK_MONOTONIC µs since the flow started; expires_usec: CLOCK_REALTIME µs, 0 before
 *       a code was issued; state: a flow state (flow-machine.c), or "approved"/"refused" once finished.
 *   CancelFlow(s id)                                                              root only
 *   GetStatus() → a{sv}                                                           root only
 * Flow (DEVFLOW_FLOW_PATH_PREFIX/ID; only the connection that started it may call):
 *   Wait() → (b allowed, s local_user, s message)   deferred until the flow ends; failures are errors below
 *   Poll() → (t next_poll_usec)                     "the user says they approved": poll as soon as the
 *                                                   interval allows; answered once that poll is answered:
 *                                                   0 when the flow ended (Wait() answers at the same time),
 *                                                   else CLOCK_REALTIME µs of the earliest next poll
 *   Cancel()
 *   At most 8 Wait() and 8 Poll() calls wait on one flow; more get TooManyFlows.
 */

#define DEVFLOW_FLOW_ROW "(sssssttu)"

#define DEVFLOW_ERROR_PREFIX            "net.devflow.Devflow1.Error."
#define DEVFLOW_ERROR_DENIED            DEVFLOW_ERROR_PREFIX "Denied"           /* IdP access_denied, or the rules refused */
#define DEVFLOW_ERROR_WRONG_USER        DEVFLOW_ERROR_PREFIX "WrongUser"        /* the approving identity maps to another account */
#define DEVFLOW_ERROR_EXPIRED           DEVFLOW_ERROR_PREFIX "Expired"          /* the code expired before approval */
#define DEVFLOW_ERROR_CANCELLED         DEVFLOW_ERROR_PREFIX "Cancelled"
#define DEVFLOW_ERROR_IDP_UNAVAILABLE   DEVFLOW_ERROR_PREFIX "IdpUnavailable"   /* network, TLS, 5xx, timeout */
#define DEVFLOW_ERROR_IDP_ERROR         DEVFLOW_ERROR_PREFIX "IdpError"         /* the IdP answered with an error */
#define DEVFLOW_ERROR_TOKEN_INVALID     DEVFLOW_ERROR_PREFIX "TokenInvalid"     /* ID token failed validation */
#define DEVFLOW_ERROR_UNKNOWN_USER      DEVFLOW_ERROR_PREFIX "UnknownUser"      /* no such local account */
#define DEVFLOW_ERROR_NOT_PERMITTED     DEVFLOW_ERROR_PREFIX "NotPermitted"     /* caller may not do this */
#define DEVFLOW_ERROR_TOO_MANY_FLOWS    DEVFLOW_ERROR_PREFIX "TooManyFlows"     /* a flow limit is reached */
#define DEVFLOW_ERROR_RATE_LIMITED      DEVFLOW_ERROR_PREFIX "RateLimited"      /* too many new flows per minute */
#define DEVFLOW_ERROR_RHOST_NOT_ALLOWED DEVFLOW_ERROR_PREFIX "RhostNotAllowed"  /* allowed_rhosts refused PAM_RHOST */
#define DEVFLOW_ERROR_NO_SUCH_FLOW      DEVFLOW_ERROR_PREFIX "NoSuchFlow"
#define DEVFLOW_ERROR_SHUTTING_DOWN     DEVFLOW_ERROR_PREFIX "ShuttingDown"

/* The version is meson.build's project(version:), given to the compiler as DEVFLOW_VERSION_STRING. */
#ifndef DEVFLOW_VERSION_STRING
#  error "DEVFLOW_VERSION_STRING is not defined: build with meson (meson.build sets it)"
#endif
#define DEVFLOW_VERSION DEVFLOW_VERSION_STRING
