/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a VM gives back, at after_vm_destroy or by `hostusb release`; see release.h. */
#include "release.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host.h"
#include "journal.h"
#include "node.h"
#include "plan.h"
#include "say.h"
#include "sysfs.h"

/*
 * What became of one journal line: given back (its mode too, or not: warned)
 * or its device gone (the line is dropped); kept (not this VM's, or its node is missing: warned); or failed.
 */
enum release_outcome { RELEASED, RELEASED_MODE_KEPT, DEVICE_GONE, RELEASE_KEPT, RELEASE_FAILED };

/*
 * Gives one node back its recorded owner.  A device still in sysfs whose node
 * is missing cannot be given back now; its line stays, so its original owner
 * is not lost.  err says why (a warning for DEVICE_GONE and RELEASE_KEPT).
 */
static enum release_outcome release_entry(const char *root, const char *vmid, const struct usb_device_list *list,
					  const struct journal_entry *e, struct error *err)
{
	const struct usb_device *dev = sysfs_find(list, e->addr);
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	node_paths(root, e->addr, inside, path, sizeof path);
	if (!dev) {
		error_set(err, "warning: %s is gone; forgetting its recorded owner %u:%u", inside, e->uid, e->gid);
		return DEVICE_GONE;
	}
	struct stat st;
	int fd = open_node(root, dev, &st, true, NULL, err);
	if (fd == -2) {
		error_set(err, "warning: %s: device 0x%04x:0x%04x is in sysfs but its node is missing; still held by "
			  "VM %s, owner %u:%u kept to restore: once the node is back, run after_vm_destroy for that "
			  "VM again", path, dev->id.vendor, dev->id.product, e->vmid[0] ? e->vmid : "(no vmId)",
			  e->uid, e->gid);
		return RELEASE_KEPT;
	}
	if (fd < 0)
		return RELEASE_FAILED;
	bool mode_kept;
	int rc = give_back(root, fd, e->addr, e->uid, e->gid, e->has_mode, e->mode, &mode_kept, err);
	close(fd);
	if (rc == 0)
		say_given_back(vmid, dev, e, mode_kept);
	return rc < 0 ? RELEASE_FAILED : mode_kept ? RELEASED_MODE_KEPT : RELEASED;
}

/*
 * What a destroy looks at: the devices of the property's ids and the journal
 * lines of their nodes; this VM's lines and the devices at their nodes.  Of
 * the other devices sysfs lists, no more than an id or an address is read.
 * Says why it fails.
 */
static int read_for_release(const char *root, const char *vmid, const struct request *req,
			    struct usb_device_list *list, struct journal *j)
{
	struct error err;
	struct usb_id ids[MAX_ENTRIES];
	if (sysfs_scan_ids(root, ids, request_ids(req, ids), list, &err) < 0) {
		say_error(&err);
		return -1;
	}
	if (journal_read(root, list, vmid, j, &err) < 0) {
		say_error(&err);
		return -1;
	}
	/* this VM's nodes the scan by id did not find, in address order */
	struct usb_addr *elsewhere = malloc((j->count + 1) * sizeof *elsewhere);
	size_t n = 0;
	for (size_t k = 0; elsewhere && k < j->count; k++)
		if (!sysfs_find(list, j->entries[j->by_addr[k]].addr))
			elsewhere[n++] = j->entries[j->by_addr[k]].addr;
	int rc = !elsewhere ? -1
	       : n > 0 ? sysfs_scan_addrs(root, elsewhere, n, list, &err) : 0;
	if (rc < 0)
		say("%s", elsewhere ? err.message : strerror(ENOMEM));
	free(elsewhere);
	return rc;
}

/*
 * What a destroy or a release says of what it does not find: without vmId,
 * that it is missing; with nothing recorded for the VM, one line saying so
 * (with announce: every release, and a destroy of a VM with the property);
 * else each id of the property it holds fewer of than requested.
 */
static void say_not_held(const char *vmid, const struct request *req, const struct journal *j, const bool *release,
			 const size_t *missing, bool announce)
{
	bool any = false;
	for (size_t i = 0; i < j->count; i++)
		any |= release[i];
	if (!vmid[0]) {
		say("warning: vmId is not set: only devices recorded without a vmId can be given back; VDSM sets vmId "
		    "to the VM's UUID (by hand: hostusb release VMID)");
		return;
	}
	if (!any) {
		if (announce)
			say("VM %s: nothing recorded for this VM: nothing to give back", vmid);
		return;
	}
	for (size_t r = 0; r < req->count; r++)
		if (missing[r] > 0)
			say("warning: device 0x%04x:0x%04x: %zu requested but not recorded as held by this VM",
			    req->entries[r].id.vendor, req->entries[r].id.product, missing[r]);
}

/* Gives back what this VM holds and writes the journal without those lines; says what it could not. */
static int release_all(const char *root, const char *vmid, const struct request *req, struct usb_device_list *list,
		       struct journal *j, bool announce)
{
	struct error err;
	size_t missing[MAX_ENTRIES];
	bool *release = calloc(j->count + 1, sizeof *release);
	if (!release) {
		say("journal: %s", strerror(ENOMEM));
		return -1;
	}
	plan_select_releases(req, list, j, vmid, release, missing);
	say_not_held(vmid, req, j, release, missing, announce);
	int rc = 0;
	bool any = false;
	for (size_t i = 0; i < j->count; i++) {
		if (!release[i])
			continue;
		enum release_outcome outcome = release_entry(root, vmid, list, &j->entries[i], &err);
		if (outcome != RELEASED && outcome != RELEASED_MODE_KEPT)
			say_error(&err);
		release[i] = outcome == RELEASED || outcome == RELEASED_MODE_KEPT || outcome == DEVICE_GONE;
		any |= release[i];
		rc = outcome == RELEASE_FAILED ? -1 : rc;
	}
	if (any && journal_drop(j, release) < 0) {
		say("journal: %s", strerror(ENOMEM));
		rc = -1;
	} else if (any && journal_commit(root, j, &err) != 0) {
		say_error(&err);
		rc = -1;
	}
	free(release);
	return rc;
}

/*
 * Gives back what the journal records for the VM (and, for the ids of req,
 * the lines without a vmId); announce: says so when nothing is recorded.
 */
int give_back_vm(const char *root, unsigned lock_wait, const char *vmid, const struct request *req, bool announce)
{
	struct usb_device_list list = { 0 };
	struct journal j = { 0 };
	struct error err;
	char path[PATH_SIZE];
	struct stat st;
	if (path_under_root(root, JOURNAL_PATH, path, sizeof path, &err) < 0) {
		say_error(&err);
		return -1;
	}
	if (lstat(path, &st) < 0 && errno == ENOENT) {
		if (!vmid[0])
			say("warning: vmId is not set, and %s does not exist: no device to give back", path);
		else if (announce)
			say("VM %s: nothing recorded for this VM: nothing to give back (%s does not exist)", vmid,
			    path);
		return 0;
	}
	int lock_fd = journal_lock(root, lock_wait, &err), rc = -1;
	if (lock_fd < 0)
		say_error(&err);
	else if (read_for_release(root, vmid, req, &list, &j) == 0)
		rc = release_all(root, vmid, req, &list, &j, announce);
	journal_free(&j);
	sysfs_free(&list);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}
