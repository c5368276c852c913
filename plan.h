/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef HOSTUSB_PLAN_H
#define HOSTUSB_PLAN_H
/*
 * The plan: which host device each entry of the hostusb property gets, from
 * the devices found, the journal and the VM's id.  No I/O: it knows only what
 * it is given.
 *
 * Entries naming one device (a serial number, a port) are resolved first,
 * then each plain id takes the lowest free devices left, those this VM
 * already holds first (a re-start gets the same devices).  A device another
 * VM holds (or a line without vmId) is never taken.  A hub (bDeviceClass 09,
 * root hubs too) is never given, whatever names it: an entry that only hubs
 * match is an error naming the hub, even when optional.  An optional entry
 * whose device is absent or held is skipped; anything else wrong with an
 * entry is an error naming it.
 */
#include <stdbool.h>
#include <stddef.h>

#include "hostdev.h"
#include "journal.h"
#include "request.h"
#include "text.h"
#include "usb.h"

enum plan_fate {
	PLAN_CLAIMED,   /* device is its device */
	PLAN_ABSENT,    /* optional, skipped: no such device, or not enough free of its id */
	PLAN_HELD,      /* optional, skipped: held by holder */
};

struct plan_entry {
	enum plan_fate fate;
	size_t device;              /* PLAN_CLAIMED: index in the device list */
	bool address;               /* its hostdev names bus and device: the id alone is not enough */
	char holder[VMID_MAX + 1];  /* PLAN_HELD: the holder's vmId, "" for a line without one */
};

struct plan {
	size_t count;                            /* first: a short plan touches one page of it */
	struct plan_entry entries[MAX_ENTRIES];  /* one per entry of the request, in its order */
};

/*
 * list: every device of the ids the request names, and the device on each
 * port it names (sysfs_read_port, sysfs_add).  0 with *plan filled, or -1 with
 * err naming the entry.
 */
int plan_make(const struct request *req, const struct usb_device_list *list, const struct journal *j,
	      const char *vmid, struct plan *plan, struct error *err);
/*
 * Before the journal is read: no plain id entry matches only hubs, and each
 * plain id has a device that is not a hub for every entry of it that is not
 * optional.  0, or -1 with err naming the entry (and the hub) or the id.
 */
int plan_check_present(const struct request *req, const struct usb_device_list *list, struct error *err);
/* How many entries that are not optional need a device of id. */
size_t plan_required(const struct request *req, struct usb_id id);
/*
 * What after_vm_destroy gives back, with list as a destroy reads it:
 * release[i] for each line of j (j->count) it gives back: every line of
 * vmid, and for an id of the property the VM holds fewer of than requested,
 * lines without a vmId (the Python hook's) on matching devices, ascending.
 * missing[r] (req->count): how many of entry r's id are still not accounted
 * for (0 for an id an earlier entry has, or an entry without an id).
 */
void plan_select_releases(const struct request *req, const struct usb_device_list *list, const struct journal *j,
			  const char *vmid, bool *release, size_t *missing);
/*
 * The shortest property value that names exactly dev (one of list) and
 * survives a replug: the id, else with the serial, else with the port; "-"
 * for a hub or a device without a port.
 */
void plan_property_value(const struct usb_device_list *list, const struct usb_device *dev, char *buf, size_t size);
/* "0x0529:0x0001 not present" or "... held by VM <vmId>": why entry i was skipped. */
void plan_skip_text(const struct request *req, const struct plan *plan, size_t i, char *buf, size_t size);

/*
 * Resuming from a saved domain XML (a hibernated VM, a memory snapshot):
 * libvirt attaches what its USB hostdevs name, the device of that id at
 * that address (or the one device of that id), whatever this VM was given
 * by the start just before.  A saved hostdev is this VM's when its id is one
 * the property names, or a device this VM holds has, or its address is a
 * device this VM holds; such a hostdev must name a device this VM holds now:
 * with an address, the device there, of its id; without one, the only
 * device of its id.  Others (the engine's own) are left alone.
 */
enum resume_verdict { RESUME_NOT_OURS, RESUME_FINE, RESUME_REFUSED };

struct resume_check {
	enum resume_verdict verdict;
	const struct usb_device *there;    /* REFUSED: with an address, the device there now (NULL: none);
					      without, the first of its id (NULL: none) */
	size_t of_id;                      /* REFUSED without an address: devices of its id on the host */
	const struct usb_device *instead;  /* REFUSED: a device of its id this VM holds that no fine hostdev
					      names, the entry's (NULL: none) */
};

/*
 * checks[i] for saved[i], i < n.  list: the host's devices (at least those
 * of the ids of the property and of the saved hostdevs, and those at their
 * addresses and at this VM's journal lines); j: the journal with this VM's
 * lines and those of the devices listed.
 */
void plan_resume(const struct request *req, const struct saved_hostdev *saved, size_t n,
		 const struct usb_device_list *list, const struct journal *j, const char *vmid,
		 struct resume_check *checks);
/* The refusal of saved hostdev h, for one line: what it names, what is there, what to do. */
void plan_resume_text(const struct saved_hostdev *h, const struct resume_check *c, const struct journal *j,
		      char *buf, size_t size);

#endif
