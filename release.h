/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_RELEASE_H
#define HOSTUSB_RELEASE_H
/*
 * Giving back what a VM holds, under the journal lock: the nodes the
 * journal records for vmid (and, for the ids of req, lines without a vmId;
 * plan_select_releases chooses), each back to its recorded owner and mode,
 * and the journal written without their lines.  A line whose node cannot be
 * given back now stays, so its original owner is not lost.
 */
#include <stdbool.h>

#include "request.h"

/*
 * Gives back what the journal under root records for the VM vmid (and, for
 * the ids of req, the lines without a vmId), waiting at most lock_wait
 * seconds for the lock; announce: says so when nothing is recorded.  Says
 * what it does and why it fails: 0, or -1.
 */
int give_back_vm(const char *root, unsigned lock_wait, const char *vmid, const struct request *req, bool announce);

#endif
