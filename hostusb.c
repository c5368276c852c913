/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hostusb: hands host USB devices to a virtual machine, as a VDSM hook.
 *
 * One binary serves four hook points, chosen by the directory it runs from:
 * before_vm_start claims the devices named by the "hostusb" custom property,
 * chowns their nodes to qemu and adds <hostdev> elements to the domain XML;
 * after_vm_destroy gives them back; before_vm_migrate_source refuses to
 * migrate a VM that uses them; before_vm_dehibernate refuses to resume a VM
 * whose saved domain XML names other devices than it was given.  The
 * original owners are kept in a journal so a crash at any point can be
 * undone.
 *
 * This file is the program: the hook points and the transaction of a start,
 * with its rollback and its dry run.  Which device each entry of the
 * property gets, and which lines a destroy gives back, is plan.c's to
 * decide; node.c opens, checks and chowns the device nodes; release.c gives
 * back what a VM holds; list.c prints `hostusb list`.  Functions below the
 * hook points return a struct error; only the hook points (and the
 * functions they hand a whole step to) print, through say.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "domread.h"
#include "format.h"
#include "host.h"
#include "hostdev.h"
#include "journal.h"
#include "list.h"
#include "node.h"
#include "release.h"
#include "say.h"
#include "plan.h"
#include "request.h"
#include "resume.h"
#include "sysfs.h"
#include "text.h"
#include "xmlpatch.h"

#ifndef HOSTUSB_VERSION
#define HOSTUSB_VERSION "unknown"
#endif

#define EXIT_HOOK_FAILED  2
/* the patched domain XML before it replaces the domain file; one name, used under the journal lock */
#define DOMAIN_TEMP_SUFFIX ".hostusb-update"

/* One requested device, from the plan to the change of its owner. */
struct claim {
	struct usb_device device;
	bool address;               /* its hostdev names bus and device: the id alone names another too */
	int node_fd;                /* O_PATH descriptor of the verified node */
	bool node_unchecked;        /* a dry run in a root without device nodes */
	unsigned old_uid, old_gid;  /* owner before this run */
	unsigned old_mode;          /* and its permission bits */
	bool changed;
	char hostdev[HOSTDEV_SIZE]; /* its <hostdev> in the domain XML, made by patch_domain */
};

/* Everything one run works with; built once in main. */
struct context {
	const struct options *opt;
	const char *property;       /* hostusb=..., "" when unset */
	const char *domxml;         /* _hook_domxml */
	char vmid[VMID_MAX + 1];
	unsigned uid, gid;          /* the new owner */
};

/* ---- the plan ---------------------------------------------------------- */

/* One claim per entry the plan gives a device, in the order of the entries: *n of them. */
static int plan_claims(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
		       const struct journal *j, struct plan *plan, struct claim *claims, size_t *n, struct error *err)
{
	*n = 0;
	if (plan_make(req, list, j, ctx->vmid, plan, err) < 0)
		return -1;
	for (size_t i = 0; i < plan->count; i++)
		if (plan->entries[i].fate == PLAN_CLAIMED)
			claims[(*n)++] = (struct claim){ .device = list->devices[plan->entries[i].device], .node_fd = -1,
							 .address = plan->entries[i].address };
	return 0;
}

/* One line for each optional entry the plan skips. */
static void say_skipped(const struct request *req, const struct plan *plan, bool dry_run)
{
	for (size_t i = 0; i < plan->count; i++) {
		char why[256];
		if (plan->entries[i].fate == PLAN_CLAIMED)
			continue;
		plan_skip_text(req, plan, i, why, sizeof why);
		say("%soptional %s: %s without it", dry_run ? "dry run: " : "", why,
		    dry_run ? "would start" : "starting");
	}
}

static void close_claims(struct claim *claims, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (claims[i].node_fd >= 0) {
			close(claims[i].node_fd);
			claims[i].node_fd = -1;
		}
}

/* The plan from the journal as it is now, read into j (the caller frees it). */
static int plan_from_journal(const struct context *ctx, const struct request *req,
			     const struct usb_device_list *list, struct journal *j, struct plan *plan,
			     struct claim *claims, size_t *n, struct error *err)
{
	*n = 0;
	if (journal_read(ctx->opt->root, list, NULL, j, err) < 0)
		return -1;
	return plan_claims(ctx, req, list, j, plan, claims, n, err);
}

/*
 * The check before the lock: the plan made from the journal as it is (read
 * into j), *n claims, and the node of every device it chooses opened and
 * verified, into fds[] (by index in the list; -1 for the others).  Nothing
 * is changed, not even the lock file made, for a start that cannot succeed.
 */
static int check_before_lock(const struct context *ctx, const struct request *req,
			     const struct usb_device_list *list, struct journal *j, int *fds, struct plan *plan,
			     struct claim *claims, size_t *n, struct error *err)
{
	struct stat st;
	struct node_walk walk = { 0, -1 };
	for (size_t i = 0; i < list->count; i++)
		fds[i] = -1;
	int rc = plan_from_journal(ctx, req, list, j, plan, claims, n, err);
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		size_t at = (size_t)(sysfs_find(list, claims[i].device.addr) - list->devices);
		fds[at] = open_node(ctx->opt->root, &list->devices[at], &st, false, &walk, err);
		rc = fds[at] < 0 ? -1 : 0;
	}
	node_walk_end(&walk);
	return rc;
}

/*
 * Under the lock: the plan check_before_lock made, while the journal it was
 * made from is current; else made again from the journal that has replaced
 * it (another VM may have claimed a device meanwhile).
 */
static int plan_under_lock(const struct context *ctx, const struct request *req, const struct usb_device_list *list,
			   struct journal *j, struct plan *plan, struct claim *claims, size_t *n, struct error *err)
{
	if (journal_current(ctx->opt->root, j))
		return 0;
	journal_free(j);
	return plan_from_journal(ctx, req, list, j, plan, claims, n, err);
}

/*
 * Gives each claim its node, opened by check_before_lock when the plan under
 * the lock chose the same device, and reads its owner before this run.
 */
static int take_claimed_nodes(const struct context *ctx, const struct usb_device_list *list, int *fds,
			      struct claim *claims, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		size_t at = (size_t)(sysfs_find(list, claims[i].device.addr) - list->devices);
		claims[i].node_fd = fds[at] >= 0 ? fds[at]
				   : open_node(ctx->opt->root, &claims[i].device, &st, false, NULL, err);
		fds[at] = -1;
		if (claims[i].node_fd < 0)
			return -1;
		if (fstat(claims[i].node_fd, &st) < 0) {
			char inside[NODE_PATH_SIZE], path[PATH_SIZE];
			node_paths(ctx->opt->root, claims[i].device.addr, inside, path, sizeof path);
			error_set(err, "%s: %s", path, strerror(errno));
			return -1;
		}
		claims[i].old_uid = st.st_uid;
		claims[i].old_gid = st.st_gid;
		claims[i].old_mode = st.st_mode & 07777;
	}
	return 0;
}

static void close_nodes(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* ---- the domain XML ---------------------------------------------------- */

/* Streams the domain XML from in_fd to out_fd with a hostdev per claim. */
static int patch_domain(const struct context *ctx, int in_fd, int out_fd, struct claim *claims, size_t n,
			struct error *err)
{
	const char *fragments[MAX_ENTRIES];
	for (size_t i = 0; i < n; i++) {
		hostdev_text(claims[i].device.id, claims[i].address ? &claims[i].device.addr : NULL, claims[i].hostdev,
			     sizeof claims[i].hostdev);
		fragments[i] = claims[i].hostdev;
	}
	struct xmlpatch_result result;
	struct xmlpatch_error xml_err;
	const struct xmlpatch_input in = { .fd = in_fd };
	if (xmlpatch_stream(&in, out_fd, fragments, n, &result, &xml_err) < 0) {
		error_set(err, "%s: %s", ctx->domxml, xml_err.message);
		return -1;
	}
	return 0;
}

/* Whether _hook_domxml names a file. */
static int check_domxml_set(const struct context *ctx, struct error *err)
{
	if (ctx->domxml && ctx->domxml[0])
		return 0;
	error_set(err, "_hook_domxml is not set: VDSM sets it to the domain XML file; to run by hand, "
		  "set it to a copy (virsh -r dumpxml VM >vm.xml)");
	return -1;
}

/*
 * Whether vmId is set: VDSM always sets it, and a line without one would be
 * given back by any VM's after_vm_destroy (the fallback for the Python hook's
 * lines).
 */
static int check_vmid_set(const struct context *ctx, struct error *err)
{
	if (ctx->vmid[0])
		return 0;
	error_set(err, "vmId is not set: VDSM sets it to the VM's UUID; to run by hand, set it too "
		  "(vmId=$(cat /proc/sys/kernel/random/uuid))");
	return -1;
}

/* Opens the domain file, which must be a regular file. */
static int open_domain(const struct context *ctx, struct stat *st, struct error *err)
{
	const char *wrong;
	int fd = open_regular(ctx->domxml, 0, 0, st, &wrong);
	if (fd < 0) {
		error_set(err, "%s (from _hook_domxml): %s", ctx->domxml, wrong);
		return -1;
	}
	return fd;
}

/* The patched document in a temporary file beside the domain file, with its mode and owner. */
static int write_domain_temp(const struct context *ctx, struct claim *claims, size_t n,
			     struct replacement *r, struct error *err)
{
	struct stat st;
	int in_fd = open_domain(ctx, &st, err);
	if (in_fd < 0)
		return -1;
	if (replacement_begin(r, ctx->domxml, DOMAIN_TEMP_SUFFIX, err) < 0) {
		close(in_fd);
		return -1;
	}
	int rc = patch_domain(ctx, in_fd, r->fd, claims, n, err);
	close(in_fd);
	if (rc == 0 && copy_mode_and_owner(r->fd, &st) < 0) {
		error_set(err, "%s%s: cannot give it the domain file's mode and owner: %s", r->path, r->suffix,
			  strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		replacement_abandon(r);
	return rc;
}

/* ---- before_vm_start --------------------------------------------------- */

/*
 * Gives every changed node back its owner from before this run; undone says
 * why the first that could not be was not (and is left alone otherwise).
 * The journal j (with this run's lines) names who holds such a node.
 */
static void undo_chowns(const struct context *ctx, struct claim *claims, size_t n, const struct journal *j,
			struct error *undone)
{
	struct error err;
	for (size_t i = n; i-- > 0;) {
		if (!claims[i].changed)
			continue;
		bool mode_kept;
		if (give_back(ctx->opt->root, claims[i].node_fd, claims[i].device.addr, claims[i].old_uid, claims[i].old_gid,
			      true, claims[i].old_mode, &mode_kept, &err) == 0) {
			claims[i].changed = false;
			continue;
		}
		if (undone->message[0])
			continue;
		char inside[NODE_PATH_SIZE], path[PATH_SIZE];
		node_paths(ctx->opt->root, claims[i].device.addr, inside, path, sizeof path);
		const char *reason = reason_of(&err, path);
		const struct journal_entry *e = journal_find(j, claims[i].device.addr);
		error_set(undone, "%s: could not be given back to %u:%u (%s); it stays recorded as held by VM %s: "
			  "run after_vm_destroy for that VM to give it back", path, e ? e->uid : claims[i].old_uid,
			  e ? e->gid : claims[i].old_gid, reason, e && e->vmid[0] ? e->vmid : "(no vmId)");
	}
}

/*
 * After a rollback: the journal as it was when every node is back at its
 * owner; otherwise the lines of the nodes left changed stay (those the
 * journal had before this run stay anyway), so that their original owner is
 * not lost.  undone says why it could not be written (a journal that cannot
 * be written stays as this run wrote it, every line in it).
 */
static void restore_journal(const struct context *ctx, const struct claim *claims, size_t n, struct journal *j,
			    size_t count_before, struct error *undone)
{
	struct error err;
	bool any_left = false;
	for (size_t i = 0; i < n; i++)
		any_left |= claims[i].changed;
	int rc;
	if (!any_left) {
		rc = journal_restore(ctx->opt->root, j, &err);
	} else {
		bool *drops = calloc(j->count + 1, sizeof *drops);
		for (size_t k = count_before; drops && k < j->count; k++) {
			drops[k] = true;
			for (size_t i = 0; i < n; i++)
				if (claims[i].changed && usb_addr_compare(claims[i].device.addr, j->entries[k].addr) == 0)
					drops[k] = false;
		}
		if (!drops || journal_drop(j, drops) < 0) {
			error_set(&err, "journal: %s", strerror(ENOMEM));
			rc = -1;
		} else {
			rc = journal_commit(ctx->opt->root, j, &err);
		}
		free(drops);
	}
	if (rc != 0 && !undone->message[0])
		*undone = err;
}

static int chown_claims(const struct context *ctx, struct claim *claims, size_t n, struct error *err)
{
	for (size_t i = 0; i < n; i++) {
		if (chown_node(ctx->opt->root, claims[i].node_fd, claims[i].device.addr, ctx->uid, ctx->gid, err) < 0)
			return -1;
		claims[i].changed = true;
		if (!node_still_in_place(ctx->opt->root, claims[i].device.addr, claims[i].node_fd, err))
			return -1;
	}
	return 0;
}

/* Adds a line for each claim the journal does not hold yet. */
static int journal_add_claims(struct journal *j, const struct claim *claims, size_t n, const char *vmid,
			      struct error *err)
{
	for (size_t i = 0; i < n; i++)
		if (journal_add(j, claims[i].device.addr, claims[i].old_uid, claims[i].old_gid, vmid,
				claims[i].old_mode) < 0) {
			error_set(err, "journal: %s", strerror(ENOMEM));
			return -1;
		}
	return 0;
}

/*
 * The transaction: temp XML, journal lines (durable), chowns, rename.  A
 * failure at any step puts back everything done before it: -1 with err set,
 * and undone set too when something could not be put back.
 */
static int commit_start(const struct context *ctx, struct claim *claims, size_t n, struct journal *j,
			struct error *err, struct error *undone)
{
	struct replacement domain;
	size_t count_before = j->count;
	/* the lines first: the journal's memory then lies before the patcher's, not pages beyond it */
	if (journal_add_claims(j, claims, n, ctx->vmid, err) < 0 || write_domain_temp(ctx, claims, n, &domain, err) < 0)
		return -1;
	int written = journal_commit(ctx->opt->root, j, err);
	if (written == 0 && chown_claims(ctx, claims, n, err) == 0 && replacement_commit(&domain, false, err) == 0)
		return 0;
	undo_chowns(ctx, claims, n, j, undone);
	/* a journal not written (written < 0) is as it was */
	if (written >= 0)
		restore_journal(ctx, claims, n, j, count_before, undone);
	replacement_abandon(&domain);
	return -1;
}

/*
 * The start itself: the check before the lock; then under it the plan again
 * if the journal has changed meanwhile (another VM may have claimed a
 * device), then the transaction.  Says why it fails.
 */
static int start(const struct context *ctx, const struct request *req, const struct usb_device_list *list)
{
	struct journal j = { 0 };
	struct claim claims[MAX_ENTRIES];
	struct plan plan;
	size_t n = 0;
	struct error err, undone;
	undone.message[0] = '\0';
	int *fds = malloc((list->count ? list->count : 1) * sizeof *fds), lock_fd = -1, rc = -1;
	if (!fds)
		error_set(&err, "%s", strerror(ENOMEM));
	if (fds && check_before_lock(ctx, req, list, &j, fds, &plan, claims, &n, &err) == 0 &&
	    (lock_fd = journal_lock(ctx->opt->root, ctx->opt->lock_wait, &err)) >= 0 &&
	    plan_under_lock(ctx, req, list, &j, &plan, claims, &n, &err) == 0 &&
	    take_claimed_nodes(ctx, list, fds, claims, n, &err) == 0)
		rc = n ? commit_start(ctx, claims, n, &j, &err, &undone) : 0;   /* every entry skipped: nothing to do */
	if (rc < 0)
		say_error(&err);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const struct journal_entry *recorded = journal_find(&j, claims[i].device.addr);
		if (recorded)   /* commit_start wrote a line for each */
			say_given(ctx->vmid, &claims[i].device, ctx->uid, ctx->gid, recorded);
	}
	if (rc == 0)
		say_skipped(req, &plan, false);
	if (undone.message[0])
		say_error(&undone);
	if (fds)
		close_nodes(fds, list->count);
	free(fds);
	close_claims(claims, n);
	journal_free(&j);
	if (lock_fd >= 0)
		close(lock_fd);
	return rc;
}

/*
 * The dry run's look at a claimed node: -1 with err set when it is refused,
 * its owner then read with lstat, so that the whole plan can be shown.
 */
static int look_at_node(const struct context *ctx, struct claim *c, bool unchecked, struct error *err)
{
	struct stat st = { .st_uid = (uid_t)-1, .st_gid = (gid_t)-1 };
	char inside[NODE_PATH_SIZE], path[PATH_SIZE];
	c->node_unchecked = unchecked;
	c->node_fd = unchecked ? -1 : open_node(ctx->opt->root, &c->device, &st, false, NULL, err);
	if (c->node_fd < 0 && !unchecked) {
		node_paths(ctx->opt->root, c->device.addr, inside, path, sizeof path);
		(void)lstat(path, &st);
	}
	c->old_uid = st.st_uid;
	c->old_gid = st.st_gid;
	return c->node_fd < 0 && !unchecked ? -1 : 0;
}

static void say_plan(const struct context *ctx, const struct claim *claims, size_t n)
{
	char node_dir[PATH_SIZE];
	(void)root_path(ctx->opt->root, NODE_DIR, node_dir, sizeof node_dir);
	for (size_t i = 0; i < n; i++) {
		const struct claim *c = &claims[i];
		char from[32] = "", unchecked[PATH_SIZE + 48] = "", inside[NODE_PATH_SIZE], node[PATH_SIZE];
		if (c->node_unchecked)
			format(unchecked, sizeof unchecked, "; not checked: %s does not exist", node_dir);
		else
			format(from, sizeof from, " from %d:%d", (int)c->old_uid, (int)c->old_gid);
		node_paths(ctx->opt->root, c->device.addr, inside, node, sizeof node);
		say("dry run: %s %s (bus %u device %u, 0x%04x:0x%04x)%s to %u:%u%s",
		    c->node_fd >= 0 || c->node_unchecked ? "would chown" : "REFUSED, would not chown", node,
		    c->device.addr.bus, c->device.addr.device, c->device.id.vendor, c->device.id.product, from,
		    ctx->uid, ctx->gid, unchecked);
	}
}

/* --dry-run: the plan made without the lock, the patched XML to stdout, the plan to stderr; nothing changed. */
static int dry_run_start(const struct context *ctx, const struct request *req, const struct usb_device_list *list)
{
	struct claim claims[MAX_ENTRIES];
	struct plan plan;
	struct journal j;
	size_t n;
	struct error err;
	struct stat st;
	int rc = -1, in_fd = -1;
	if (plan_from_journal(ctx, req, list, &j, &plan, claims, &n, &err) < 0) {
		say_error(&err);
	} else {
		bool unchecked = without_nodes(ctx->opt->root), refused = false;
		for (size_t i = 0; i < n; i++)
			if (look_at_node(ctx, &claims[i], unchecked, &err) < 0) {
				say_error(&err);
				refused = true;
			}
		in_fd = open_domain(ctx, &st, &err);
		if (in_fd < 0 || patch_domain(ctx, in_fd, STDOUT_FILENO, claims, n, &err) < 0) {
			say_error(&err);
		} else {
			say_plan(ctx, claims, n);
			say_skipped(req, &plan, true);
			rc = refused ? -1 : 0;
		}
	}
	if (in_fd >= 0)
		close(in_fd);
	close_claims(claims, n);
	journal_free(&j);
	return rc;
}

/* The device on each port an entry names, whatever its id, into list; says why it fails. */
static int add_port_devices(const struct context *ctx, const struct request *req, struct usb_device_list *list)
{
	for (size_t i = 0; i < req->count; i++) {
		struct usb_device dev;
		struct error err;
		if (req->entries[i].kind != SELECT_PORT)
			continue;
		int found = sysfs_read_port(ctx->opt->root, &req->entries[i].port, &dev, &err);
		if (found < 0) {
			say_error(&err);
			return -1;
		}
		if (found == 0 && sysfs_add(list, &dev) < 0) {
			say("%s", strerror(ENOMEM));
			return -1;
		}
	}
	return 0;
}

/*
 * What a start reads before it plans: the property, the owner, the devices.
 * 0, or -1 when it cannot start (said).  Its own function: the stack its
 * messages need is then shared with the start's.
 */
static int read_for_start(struct context *ctx, struct request *req, struct usb_device_list *list)
{
	struct error err;
	if (parse_property(ctx->property, req, &err) < 0 || check_domxml_set(ctx, &err) < 0 ||
	    check_vmid_set(ctx, &err) < 0 ||
	    resolve_owner(ctx->opt->root, ctx->opt->owner, &ctx->uid, &ctx->gid, &err) < 0) {
		say_error(&err);
		return -1;
	}
	struct usb_id ids[MAX_ENTRIES];
	if (sysfs_scan_ids(ctx->opt->root, ids, request_ids(req, ids), list, &err) < 0) {
		say_error(&err);
		return -1;
	}
	if (add_port_devices(ctx, req, list) < 0)
		return -1;
	/* a device that is not there stops the start before the lock is even made */
	if (plan_check_present(req, list, &err) < 0) {
		say_error(&err);
		return -1;
	}
	return 0;
}

static int before_vm_start(struct context *ctx)
{
	struct request req;
	struct usb_device_list list = { 0 };
	if (!ctx->property[0]) {
		if (ctx->opt->dry_run)
			say("dry run: the hostusb property is not set or empty: nothing to do");
		return 0;
	}
	int rc = read_for_start(ctx, &req, &list);
	if (rc == 0)
		rc = ctx->opt->dry_run ? dry_run_start(ctx, &req, &list) : start(ctx, &req, &list);
	sysfs_free(&list);
	return rc;
}

/* ---- after_vm_destroy -------------------------------------------------- */

static int after_vm_destroy(const struct context *ctx)
{
	struct request req = { .count = 0 };
	struct error err;
	if (ctx->property[0] && parse_property(ctx->property, &req, &err) < 0) {
		say_error(&err);
		req.count = 0;   /* the lines of this vmId are still given back */
	}
	return give_back_vm(ctx->opt->root, ctx->opt->lock_wait, ctx->vmid, &req, ctx->property[0] != '\0');
}

/* release VMID: what the journal records for that VM, without its property. */
static int release_vm(struct context *ctx)
{
	const struct request none = { .count = 0 };
	format(ctx->vmid, sizeof ctx->vmid, "%s", ctx->opt->release_vmid);
	return give_back_vm(ctx->opt->root, ctx->opt->lock_wait, ctx->vmid, &none, true);
}
/* ---- before_vm_dehibernate --------------------------------------------- */

/*
 * Resuming a hibernated VM (or a memory snapshot): the saved domain XML's
 * USB hostdevs this VM's property could have made must name the devices the
 * start just before gave it, or libvirt would attach others.  Changes
 * nothing; a refusal says, for each such hostdev, what it names and what to
 * do.
 */
static int before_vm_dehibernate(const struct context *ctx)
{
	struct request req;
	struct error err;
	if (!ctx->property[0])
		return 0;
	if (parse_property(ctx->property, &req, &err) < 0 || check_domxml_set(ctx, &err) < 0 ||
	    check_vmid_set(ctx, &err) < 0) {
		say_error(&err);
		return -1;
	}
	struct stat st;
	int fd = open_domain(ctx, &st, &err);
	if (fd < 0) {
		say_error(&err);
		return -1;
	}
	return resume_check(ctx->opt->root, ctx->domxml, fd, ctx->vmid, &req);
}

/* ---- main -------------------------------------------------------------- */

/* usage_head, the hook points, usage_text */
static const char usage_head[] =
	"usage: hostusb [--root DIR] [--owner USER:GROUP] [--dry-run] [--lock-wait SEC] [HOOK]\n"
	"       hostusb [--root DIR] [list [--property]]\n"
	"       hostusb [--root DIR] [--lock-wait SEC] release VMID\n"
	"       hostusb --help | --version\n"
	"HOOK is one of: ";
static const char usage_text[] = ".\n"
	"Without HOOK or list, the program runs the hook point its directory is named after,\n"
	"as VDSM runs hooks/HOOK/50_hostusb: the name as given, else as resolved (so\n"
	"./50_hostusb there works too).  Anywhere else it does what list does: a line per\n"
	"host USB device with its port, serial, speed, owner, the VM holding it and the\n"
	"hostusb property value that selects it (--property: only those values); but with\n"
	"_hook_domxml set, or in another directory of a hooks/ directory, it fails.  release\n"
	"gives back every device the journal records for the VM VMID (one that no longer exists).\n"
	"Environment: hostusb=ENTRY[&ENTRY]... (at most 32), _hook_domxml, vmId.  ENTRY is\n"
	"  0xVVVV:0xPPPP          any free device with this vendor:product id\n"
	"  0xVVVV:0xPPPP#SERIAL   the one with this serial number (1-64 of A-Z a-z 0-9 . _ : -)\n"
	"  0xVVVV:0xPPPP@PORT     the one on this port, which must have this id\n"
	"  @PORT                  whatever device is on this port (not a hub)\n"
	"  ?ENTRY                 optional: when it cannot be had, start without it\n"
	"A hub, root hubs too, is never given: an entry that only hubs match fails.\n"
	"PORT is the kernel's port path, as in /sys/bus/usb/devices/1-3.1: bus 1-999, then\n"
	"up to 7 port numbers 1-31 from the root hub down; list shows each device's.\n";

static int write_usage(void)
{
	char names[HOOK_POINT_NAMES_SIZE];
	hook_point_names(names, sizeof names);
	if (write_all(STDOUT_FILENO, usage_head, sizeof usage_head - 1) < 0 ||
	    write_all(STDOUT_FILENO, names, strlen(names)) < 0)
		return -1;
	return write_all(STDOUT_FILENO, usage_text, sizeof usage_text - 1);
}

static int run(const struct options *opt, const char *domxml)
{
	const char *vmid = getenv("vmId"), *property = getenv("hostusb");
	struct context ctx = { .opt = opt, .property = property ? property : "", .domxml = domxml };
	if (vmid) {
		struct error err;   /* in a block: its stack is shared with what the hook points use */
		if (check_vmid(vmid, &err) < 0) {
			say_error(&err);
			return -1;
		}
	}
	format(ctx.vmid, sizeof ctx.vmid, "%s", vmid ? vmid : "");
	switch (opt->command) {
	case CMD_BEFORE_VM_START:
		return before_vm_start(&ctx);
	case CMD_AFTER_VM_DESTROY:
		return after_vm_destroy(&ctx);
	case CMD_BEFORE_VM_DEHIBERNATE:
		return before_vm_dehibernate(&ctx);
	case CMD_BEFORE_VM_MIGRATE_SOURCE:
		if (ctx.property[0]) {
			say("cannot migrate VM with host usb devices");
			return -1;
		}
		return 0;
	case CMD_LIST: {
		struct error err;
		if (list_devices(opt->root, opt->list_property, &err) < 0) {
			say_error(&err);
			return -1;
		}
		return 0;
	}
	case CMD_RELEASE:
		return release_vm(&ctx);
	case CMD_HELP:
		return write_usage();
	case CMD_VERSION:
		return write_all(STDOUT_FILENO, "hostusb " HOSTUSB_VERSION "\n", sizeof "hostusb " HOSTUSB_VERSION);
	case CMD_NONE:
		break;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct options opt;
	const char *domxml = getenv("_hook_domxml");
	{
		struct error err;   /* in a block: its stack is shared with what run uses */
		if (parse_options(argc, argv, domxml != NULL, &opt, &err) < 0) {
			say_error(&err);
			return EXIT_HOOK_FAILED;
		}
	}
	/* as every path is made: root_path's messages then name the same paths */
	char *root = strndup(opt.root, root_length(opt.root));
	if (!root) {
		say("%s", strerror(ENOMEM));
		return EXIT_HOOK_FAILED;
	}
	opt.root = root;
	int rc = run(&opt, domxml);
	free(root);
	return rc == 0 ? 0 : EXIT_HOOK_FAILED;
}
