#pragma once
#include <libpq-fe.h>
// For PostgresReactor: Swift's Glibc module does not export these Linux headers.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

/// Names the calling thread (at most 15 characters), as /proc, top and perf show it.
static inline void pingvas_name_thread(const char *name) { prctl(PR_SET_NAME, name, 0, 0, 0); }
