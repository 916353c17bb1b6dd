/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The pending flows counted by the keys of the admission limits (manager.c): by user
 * (max_flows_per_user), by source (max_flows_per_rhost; a non-root caller's source is its uid) and by both
 * (max_flows_per_user_per_rhost), so that StartLogin asks in O(1) instead of walking every flow. flow.c
 * counts a flow up when it is made and down when it stops being pending. */

typedef struct FlowIndex FlowIndex;

typedef struct FlowCounts {
        unsigned user, source, user_source;
} FlowCounts;

int flow_index_new(FlowIndex **ret);
FlowIndex *flow_index_free(FlowIndex *x);

int flow_index_add(FlowIndex *x, const char *user, const char *source);
/* Undoes one flow_index_add() with the same user and source. */
void flow_index_remove(FlowIndex *x, const char *user, const char *source);
/* x may be NULL: nothing is pending. */
FlowCounts flow_index_counts(const FlowIndex *x, const char *user, const char *source);
