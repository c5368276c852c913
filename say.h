/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_SAY_H
#define HOSTUSB_SAY_H
/*
 * The program's messages: one line on stderr each, "hostusb: ...", written
 * with a single write(2) (VDSM logs every hook's stderr).  Only the hook
 * points, and the functions they hand a whole step to, say anything.
 */
#include <stdbool.h>

#include "journal.h"
#include "text.h"
#include "usb.h"

__attribute__((format(printf, 1, 2))) void say(const char *fmt, ...);
void say_error(const struct error *err);
/*
 * The audit trail: the line a start says for each node it gave the VM, with
 * the owner the journal records to give back (a re-start's: the first
 * start's); the line a destroy or a release says for each node it gave back
 * (mode_kept: its owner back but not its mode).
 */
void say_given(const char *vmid, const struct usb_device *dev, unsigned uid, unsigned gid,
	       const struct journal_entry *recorded);
void say_given_back(const char *vmid, const struct usb_device *dev, const struct journal_entry *e, bool mode_kept);

#endif
