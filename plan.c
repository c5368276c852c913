/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which device each entry gets; see plan.h. */
#include "plan.h"

#include <string.h>

#include "format.h"

#define NONE ((size_t)-1)

/* "entry 2 0x0529:0x0001@1-3.1: ", which every message about an entry begins with */
static void entry_prefix(const struct request *req, size_t i, char *buf, size_t size)
{
	char text[SELECTOR_TEXT_SIZE];
	selector_text(&req->entries[i], text, sizeof text);
	format(buf, size, "entry %zu %s", i + 1, text);
}

static bool held_by_other(const struct journal_entry *e, const char *vmid)
{
	return e && !(vmid[0] && vmid_equal(e->vmid, vmid));
}

static void holder_text(const struct journal_entry *e, char *buf, size_t size)
{
	if (e->vmid[0])
		format(buf, size, "VM %s", e->vmid);
	else
		format(buf, size, "an unknown VM (a line without vmId)");
}

size_t plan_required(const struct request *req, struct usb_id id)
{
	size_t n = 0;
	for (size_t k = 0; k < req->count; k++)
		n += req->entries[k].has_id && !req->entries[k].optional && usb_id_equal(req->entries[k].id, id);
	return n;
}

static size_t count_of_id(const struct usb_device_list *list, struct usb_id id)
{
	size_t n = 0;
	for (size_t d = 0; d < list->count; d++)
		n += usb_id_equal(list->devices[d].id, id);
	return n;
}

/* ---- hubs: never given, not even by id or serial number ---- */

/*
 * A hub (bDeviceClass 09, root hubs too) is never a candidate: QEMU claiming
 * it takes every device behind it away from the host.
 */
static bool candidate(const struct usb_device *dev)
{
	return !dev->hub;
}

/* The devices of id that may be given; *hub: the first hub of id, or NULL. */
static size_t candidates_of_id(const struct usb_device_list *list, struct usb_id id, const struct usb_device **hub)
{
	size_t n = 0;
	*hub = NULL;
	for (size_t d = 0; d < list->count; d++) {
		const struct usb_device *dev = &list->devices[d];
		if (!usb_id_equal(dev->id, id))
			continue;
		n += candidate(dev);
		if (!candidate(dev) && !*hub)
			*hub = dev;
	}
	return n;
}

/* Entry i matches no device but hub: refused, even when optional. */
static int refuse_hub(const struct request *req, size_t i, const struct usb_device *hub, struct error *err)
{
	char prefix[160], node[32];
	entry_prefix(req, i, prefix, sizeof prefix);
	sysfs_node_path(hub->addr, node, sizeof node);
	error_set(err, "%s: %s is a hub (%s, %s), and a hub is never given to a VM", prefix,
		  req->entries[i].kind == SELECT_SERIAL ? "the device with this serial" : "every device of this id",
		  hub->name, node);
	return -1;
}

/* How many plain id entries that are not optional ask for id. */
static size_t plain_required(const struct request *req, struct usb_id id)
{
	size_t n = 0;
	for (size_t k = 0; k < req->count; k++)
		n += req->entries[k].kind == SELECT_ID && !req->entries[k].optional &&
		     usb_id_equal(req->entries[k].id, id);
	return n;
}

int plan_check_present(const struct request *req, const struct usb_device_list *list, struct error *err)
{
	for (size_t i = 0; i < req->count; i++) {
		const struct selector *s = &req->entries[i];
		const struct usb_device *hub;
		if (s->kind != SELECT_ID)
			continue;
		size_t wanted = plain_required(req, s->id), present = candidates_of_id(list, s->id, &hub);
		if (present == 0 && hub)
			return refuse_hub(req, i, hub, err);
		if (present < wanted) {
			error_set(err, "device 0x%04x:0x%04x: %zu requested, %zu present%s", s->id.vendor, s->id.product,
				  wanted, present, hub ? " (and hubs, which are never given to a VM)" : "");
			return -1;
		}
	}
	return 0;
}

/* ---- entries naming one device ---- */

/* The device of the entry's id with its serial: *found, NONE when there is none; -1 when two have it. */
static int find_by_serial(const struct request *req, size_t i, const struct usb_device_list *list, size_t *found,
			  struct error *err)
{
	const struct selector *s = &req->entries[i];
	const struct usb_device *hub = NULL;
	size_t n = 0, at[2] = { NONE, NONE };
	for (size_t d = 0; d < list->count; d++) {
		const struct usb_device *dev = &list->devices[d];
		if (!usb_id_equal(dev->id, s->id) || dev->serial_kind != USB_SERIAL_USABLE ||
		    strcmp(dev->serial, s->serial) != 0)
			continue;
		if (!candidate(dev)) {
			hub = hub ? hub : dev;
			continue;
		}
		if (n < 2)
			at[n] = d;
		n++;
	}
	*found = at[0];
	if (n == 0 && hub)
		return refuse_hub(req, i, hub, err);
	if (n < 2)
		return 0;
	char prefix[160], first[USB_PORT_TEXT_SIZE], second[USB_PORT_TEXT_SIZE];
	entry_prefix(req, i, prefix, sizeof prefix);
	usb_port_format(&list->devices[at[0]].port, first, sizeof first);
	usb_port_format(&list->devices[at[1]].port, second, sizeof second);
	error_set(err, "%s: %zu devices of %04x:%04x have serial %s (ports %s and %s%s): name one by its port, "
		  "e.g. 0x%04x:0x%04x@%s", prefix, n, s->id.vendor, s->id.product, s->serial, first, second,
		  n > 2 ? ", ..." : "", s->id.vendor, s->id.product, first);
	return -1;
}

/* The device on the entry's port: *found, NONE when nothing is there; -1 when it may not be given. */
static int find_on_port(const struct request *req, size_t i, const struct usb_device_list *list, size_t *found,
			struct error *err)
{
	const struct selector *s = &req->entries[i];
	*found = NONE;
	for (size_t d = 0; d < list->count && *found == NONE; d++)
		if (usb_port_equal(&list->devices[d].port, &s->port))
			*found = d;
	if (*found == NONE)
		return 0;
	const struct usb_device *dev = &list->devices[*found];
	char prefix[160], port[USB_PORT_TEXT_SIZE];
	entry_prefix(req, i, prefix, sizeof prefix);
	usb_port_format(&s->port, port, sizeof port);
	if (!candidate(dev)) {
		error_set(err, "%s: port %s has a hub (%04x:%04x), which is not given to a VM: name a port behind it",
			  prefix, port, dev->id.vendor, dev->id.product);
		return -1;
	}
	if (s->has_id && !usb_id_equal(dev->id, s->id)) {
		error_set(err, "%s: port %s has %04x:%04x, not %04x:%04x", prefix, port, dev->id.vendor, dev->id.product,
			  s->id.vendor, s->id.product);
		return -1;
	}
	return 0;
}

/* Entry i could not have its device: skipped when optional, else why. */
static int cannot_have(const struct request *req, size_t i, const struct journal_entry *holder, struct plan *plan,
		       struct error *err)
{
	const struct selector *s = &req->entries[i];
	struct plan_entry *p = &plan->entries[i];
	if (s->optional) {
		p->fate = holder ? PLAN_HELD : PLAN_ABSENT;
		if (holder)
			format(p->holder, sizeof p->holder, "%s", holder->vmid);
		return 0;
	}
	char prefix[160], port[USB_PORT_TEXT_SIZE], inside[32], who[96];
	entry_prefix(req, i, prefix, sizeof prefix);
	usb_port_format(&s->port, port, sizeof port);
	if (holder) {
		sysfs_node_path(holder->addr, inside, sizeof inside);
		holder_text(holder, who, sizeof who);
		error_set(err, "%s: %s is held by %s", prefix, inside, who);
	} else if (s->kind == SELECT_SERIAL) {
		error_set(err, "%s: no device %04x:%04x with serial %s is present (hostusb list shows the serials)", prefix,
			  s->id.vendor, s->id.product, s->serial);
	} else {
		error_set(err, "%s: no device on port %s", prefix, port);
	}
	return -1;
}

/* Entry i names device d: refused when an earlier entry names it too. */
static int check_not_named_twice(const struct request *req, size_t i, const struct usb_device_list *list, size_t d,
				 const struct plan *plan, struct error *err)
{
	for (size_t k = 0; k < i; k++) {
		if (plan->entries[k].fate != PLAN_CLAIMED || plan->entries[k].device != d)
			continue;
		char first[160], second[160], port[USB_PORT_TEXT_SIZE];
		entry_prefix(req, k, first, sizeof first);
		entry_prefix(req, i, second, sizeof second);
		usb_port_format(&list->devices[d].port, port, sizeof port);
		error_set(err, "%s and %s name the same device (port %s, bus %u device %u)", first, second, port,
			  list->devices[d].addr.bus, list->devices[d].addr.device);
		return -1;
	}
	return 0;
}

static int resolve_named(const struct request *req, size_t i, const struct usb_device_list *list,
			 const struct journal *j, const char *vmid, struct plan *plan, struct error *err)
{
	size_t d;
	int rc = req->entries[i].kind == SELECT_SERIAL ? find_by_serial(req, i, list, &d, err)
						      : find_on_port(req, i, list, &d, err);
	if (rc < 0)
		return -1;
	if (d == NONE)
		return cannot_have(req, i, NULL, plan, err);
	const struct journal_entry *e = journal_find(j, list->devices[d].addr);
	if (held_by_other(e, vmid))
		return cannot_have(req, i, e, plan, err);
	if (check_not_named_twice(req, i, list, d, plan, err) < 0)
		return -1;
	plan->entries[i].device = d;
	return 0;
}

/* ---- plain ids ---- */

static bool taken(const struct plan *plan, size_t d)
{
	for (size_t k = 0; k < plan->count; k++)
		if (plan->entries[k].fate == PLAN_CLAIMED && plan->entries[k].device == d)
			return true;
	return false;
}

/*
 * Up to want devices of id for the plain entries: those this VM holds first,
 * then free ones, never one named by another entry or held by another VM
 * (*other: the first such, or NULL).  chosen[] ascending; returns how many.
 */
static size_t choose(const struct usb_device_list *list, const struct journal *j, const char *vmid,
		     const struct plan *plan, struct usb_id id, size_t want, size_t *chosen,
		     const struct journal_entry **other)
{
	size_t found = 0;
	*other = NULL;
	for (int pass = 0; pass < 2; pass++)
		for (size_t d = 0; d < list->count && found < want; d++) {
			if (!usb_id_equal(list->devices[d].id, id) || !candidate(&list->devices[d]) || taken(plan, d))
				continue;
			const struct journal_entry *e = journal_find(j, list->devices[d].addr);
			if (pass == 0 ? e && !held_by_other(e, vmid) : e == NULL)
				chosen[found++] = d;
			else if (held_by_other(e, vmid) && !*other)
				*other = e;
		}
	for (size_t a = 1; a < found; a++)
		for (size_t b = a; b > 0 && chosen[b - 1] > chosen[b]; b--) {
			size_t t = chosen[b];
			chosen[b] = chosen[b - 1];
			chosen[b - 1] = t;
		}
	return found;
}

static int too_few_free(struct usb_id id, size_t required, size_t found, const struct journal_entry *other,
			const struct usb_device *hub, struct error *err)
{
	char inside[32], who[96];
	if (!other && hub) {
		sysfs_node_path(hub->addr, inside, sizeof inside);
		error_set(err, "device 0x%04x:0x%04x: %zu requested, %zu free; %s (%s) is a hub, never given to a VM",
			  id.vendor, id.product, required, found, hub->name, inside);
		return -1;
	}
	if (!other) {
		error_set(err, "device 0x%04x:0x%04x: %zu requested, %zu free; the others are named by other entries",
			  id.vendor, id.product, required, found);
		return -1;
	}
	sysfs_node_path(other->addr, inside, sizeof inside);
	holder_text(other, who, sizeof who);
	error_set(err, "device 0x%04x:0x%04x: %zu requested, %zu free; %s is held by %s", id.vendor, id.product,
		  required, found, inside, who);
	return -1;
}

/*
 * The plain entries of the id of entry first: the k-th of them that is not
 * skipped gets the k-th device chosen; when there are too few, the last
 * optional ones are skipped.
 */
static int resolve_id(const struct request *req, size_t first, const struct usb_device_list *list,
		      const struct journal *j, const char *vmid, struct plan *plan, struct error *err)
{
	struct usb_id id = req->entries[first].id;
	size_t members[MAX_ENTRIES], n = 0, required = 0, chosen[MAX_ENTRIES];
	const struct usb_device *hub;
	if (candidates_of_id(list, id, &hub) == 0 && hub)
		return refuse_hub(req, first, hub, err);
	for (size_t k = first; k < req->count; k++)
		if (req->entries[k].kind == SELECT_ID && usb_id_equal(req->entries[k].id, id)) {
			members[n++] = k;
			required += !req->entries[k].optional;
		}
	const struct journal_entry *other;
	size_t found = choose(list, j, vmid, plan, id, n, chosen, &other);
	if (found < required)
		return too_few_free(id, required, found, other, hub, err);
	for (size_t m = n, skip = n - found; m-- > 0 && skip > 0;)
		if (req->entries[members[m]].optional) {
			cannot_have(req, members[m], other, plan, err);
			skip--;
		}
	for (size_t m = 0, used = 0; m < n && used < found; m++)   /* as many claimed as found */
		if (plan->entries[members[m]].fate == PLAN_CLAIMED)
			plan->entries[members[m]].device = chosen[used++];
	return 0;
}

/* ---- what a VM gives back ---- */

/*
 * Marks the journal lines this VM gives back: every line of its vmId, and for
 * an id of the property it holds fewer of than requested, lines without a
 * vmId (the Python hook's) on matching devices, ascending.  missing[r]: how
 * many of entry r's id are still not accounted for (0 for an id an earlier
 * entry has).
 */
void plan_select_releases(const struct request *req, const struct usb_device_list *list, const struct journal *j,
			  const char *vmid, bool *release, size_t *missing)
{
	for (size_t i = 0; i < j->count; i++)
		release[i] = !held_by_other(&j->entries[i], vmid);
	for (size_t r = 0; r < req->count; r++) {
		size_t wanted = req->entries[r].has_id ? plan_required(req, req->entries[r].id) : 0;
		missing[r] = 0;
		for (size_t k = 0; k < r; k++)
			wanted = usb_id_equal(req->entries[k].id, req->entries[r].id) ? 0 : wanted;
		for (int pass = 0; pass < 2; pass++)
			for (size_t d = 0; d < list->count && wanted > 0; d++) {
				const struct journal_entry *e = journal_find(j, list->devices[d].addr);
				if (!e || !usb_id_equal(list->devices[d].id, req->entries[r].id))
					continue;
				size_t i = (size_t)(e - j->entries);
				if (pass == 0 && release[i])
					wanted--;
				else if (pass == 1 && !release[i] && !e->vmid[0])
					release[i] = true, wanted--;
			}
		missing[r] = wanted;
	}
}

/* ---- the value that names a device ---- */

/* Whether dev is the only device of its id with its serial. */
static bool serial_unique(const struct usb_device_list *list, const struct usb_device *dev)
{
	for (size_t i = 0; i < list->count; i++) {
		const struct usb_device *other = &list->devices[i];
		if (other != dev && usb_id_equal(other->id, dev->id) && other->serial_kind == USB_SERIAL_USABLE &&
		    strcmp(other->serial, dev->serial) == 0)
			return false;
	}
	return true;
}

/*
 * The shortest property value that names exactly this device and survives a
 * replug: the id when no other device has it, else with the serial when that
 * is usable and unique among the id, else with the port.  "-" for a hub.
 */
void plan_property_value(const struct usb_device_list *list, const struct usb_device *dev, char *buf, size_t size)
{
	char port[USB_PORT_TEXT_SIZE];
	if (dev->hub || dev->port.bus == 0) {
		format(buf, size, "-");
		return;
	}
	int n = format(buf, size, "0x%04x:0x%04x", dev->id.vendor, dev->id.product);
	if (count_of_id(list, dev->id) == 1 || n < 0 || (size_t)n >= size)
		return;
	usb_port_format(&dev->port, port, sizeof port);
	if (dev->serial_kind == USB_SERIAL_USABLE && serial_unique(list, dev))
		format(buf + n, size - (size_t)n, "#%s", dev->serial);
	else
		format(buf + n, size - (size_t)n, "@%s", port);
}

/* ---- the whole plan ---- */

int plan_make(const struct request *req, const struct usb_device_list *list, const struct journal *j,
	      const char *vmid, struct plan *plan, struct error *err)
{
	plan->count = req->count;
	for (size_t i = 0; i < req->count; i++)
		plan->entries[i] = (struct plan_entry){ .fate = PLAN_CLAIMED, .device = NONE };
	for (size_t i = 0; i < req->count; i++)
		if (req->entries[i].kind != SELECT_ID && resolve_named(req, i, list, j, vmid, plan, err) < 0)
			return -1;
	for (size_t i = 0; i < req->count; i++) {
		bool seen = false;
		for (size_t k = 0; k < i; k++)
			seen |= req->entries[k].kind == SELECT_ID && usb_id_equal(req->entries[k].id, req->entries[i].id);
		if (req->entries[i].kind == SELECT_ID && !seen && resolve_id(req, i, list, j, vmid, plan, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < req->count; i++) {
		struct plan_entry *p = &plan->entries[i];
		if (p->fate == PLAN_CLAIMED)
			p->address = !req->entries[i].has_id || count_of_id(list, list->devices[p->device].id) > 1;
	}
	return 0;
}

void plan_skip_text(const struct request *req, const struct plan *plan, size_t i, char *buf, size_t size)
{
	char text[SELECTOR_TEXT_SIZE];
	struct selector s = req->entries[i];
	s.optional = false;
	selector_text(&s, text, sizeof text);
	if (plan->entries[i].fate == PLAN_HELD && plan->entries[i].holder[0])
		format(buf, size, "%s held by VM %s", text, plan->entries[i].holder);
	else if (plan->entries[i].fate == PLAN_HELD)
		format(buf, size, "%s held by an unknown VM (a line without vmId)", text);
	else
		format(buf, size, "%s not present", text);
}

/* ---- resuming from a saved domain XML ---- */

static bool held_by_this_vm(const struct journal *j, struct usb_addr addr, const char *vmid)
{
	const struct journal_entry *e = journal_find(j, addr);
	return e && vmid[0] && vmid_equal(e->vmid, vmid);
}

/* Whether the property names id, or a device this VM holds has it. */
static bool id_of_this_vm(const struct request *req, const struct usb_device_list *list, const struct journal *j,
			  const char *vmid, struct usb_id id)
{
	for (size_t i = 0; i < req->count; i++)
		if (req->entries[i].has_id && usb_id_equal(req->entries[i].id, id))
			return true;
	for (size_t d = 0; d < list->count; d++)
		if (usb_id_equal(list->devices[d].id, id) && held_by_this_vm(j, list->devices[d].addr, vmid))
			return true;
	return false;
}

static const struct usb_device *first_of_id(const struct usb_device_list *list, struct usb_id id)
{
	for (size_t d = 0; d < list->count; d++)
		if (usb_id_equal(list->devices[d].id, id))
			return &list->devices[d];
	return NULL;
}

/* The verdict on h alone; c->there and c->of_id set for a refusal. */
static void check_saved(const struct request *req, const struct saved_hostdev *h, const struct usb_device_list *list,
			const struct journal *j, const char *vmid, struct resume_check *c)
{
	*c = (struct resume_check){ .verdict = RESUME_NOT_OURS };
	bool addr_held = h->has_addr && held_by_this_vm(j, h->addr, vmid);
	if (!addr_held && !(h->has_id && id_of_this_vm(req, list, j, vmid, h->id)))
		return;
	if (h->has_addr) {
		c->there = sysfs_find(list, h->addr);
		bool fine = c->there && addr_held && (!h->has_id || usb_id_equal(c->there->id, h->id));
		c->verdict = fine ? RESUME_FINE : RESUME_REFUSED;
		return;
	}
	c->of_id = count_of_id(list, h->id);
	c->there = first_of_id(list, h->id);
	bool fine = c->of_id == 1 && held_by_this_vm(j, c->there->addr, vmid);
	c->verdict = fine ? RESUME_FINE : RESUME_REFUSED;
}

/* Whether a fine hostdev names device d. */
static bool named_by_fine(const struct saved_hostdev *saved, size_t n, const struct resume_check *checks,
			  const struct usb_device *d)
{
	for (size_t i = 0; i < n; i++)
		if (checks[i].verdict == RESUME_FINE &&
		    (saved[i].has_addr ? usb_addr_compare(saved[i].addr, d->addr) == 0 : usb_id_equal(saved[i].id, d->id)))
			return true;
	return false;
}

void plan_resume(const struct request *req, const struct saved_hostdev *saved, size_t n,
		 const struct usb_device_list *list, const struct journal *j, const char *vmid,
		 struct resume_check *checks)
{
	for (size_t i = 0; i < n; i++)
		check_saved(req, &saved[i], list, j, vmid, &checks[i]);
	for (size_t i = 0; i < n; i++) {
		if (checks[i].verdict != RESUME_REFUSED)
			continue;
		for (size_t d = 0; d < list->count && !checks[i].instead; d++) {
			const struct usb_device *dev = &list->devices[d];
			bool same_kind = saved[i].has_id ? usb_id_equal(dev->id, saved[i].id) : !dev->hub;
			if (same_kind && held_by_this_vm(j, dev->addr, vmid) && !named_by_fine(saved, n, checks, dev))
				checks[i].instead = dev;
		}
	}
}

/* "0529:0001 serial KEY-A on port 1-2 (bus 1 device 3)" */
static void device_text(const struct usb_device *d, char *buf, size_t size)
{
	char port[USB_PORT_TEXT_SIZE] = "?", serial[SERIAL_MAX + 16] = "no serial";
	if (d->port.bus)
		usb_port_format(&d->port, port, sizeof port);
	if (d->serial_kind != USB_SERIAL_NONE)
		format(serial, sizeof serial, "serial %s%s", d->serial, d->serial_cut ? "..." : "");
	format(buf, size, "%04x:%04x %s on port %s (bus %u device %u)", d->id.vendor, d->id.product, serial, port,
	       d->addr.bus, d->addr.device);
}

/* Who holds d: "held by VM X", "held by no VM" */
static void holder_of(const struct journal *j, const struct usb_device *d, char *buf, size_t size)
{
	const struct journal_entry *e = journal_find(j, d->addr);
	char holder[VMID_MAX + 48];
	if (e)
		holder_text(e, holder, sizeof holder);
	format(buf, size, "held by %s", e ? holder : "no VM");
}

/* What is where the saved hostdev h points now. */
static void there_text(const struct saved_hostdev *h, const struct resume_check *c, const struct journal *j,
		       char *buf, size_t size)
{
	char dev[160], who[112];
	if (c->there) {
		device_text(c->there, dev, sizeof dev);
		holder_of(j, c->there, who, sizeof who);
	}
	if (h->has_addr && !c->there)
		format(buf, size, "no device is there now");
	else if (h->has_addr)
		format(buf, size, "there is now %s, %s", dev, who);
	else if (c->of_id == 0)
		format(buf, size, "no device of that id is present now");
	else if (c->of_id > 1)
		format(buf, size, "%zu devices have that id now (%s, ...), and libvirt would not know which", c->of_id,
		       dev);
	else
		format(buf, size, "the one device of that id is %s, %s", dev, who);
}

void plan_resume_text(const struct saved_hostdev *h, const struct resume_check *c, const struct journal *j,
		      char *buf, size_t size)
{
	char named[64], now[320], got[192] = "this VM holds no device of that id";
	if (h->has_id)
		format(named, sizeof named, "%04x:%04x ", h->id.vendor, h->id.product);
	else
		named[0] = '\0';
	size_t len = strlen(named);
	if (h->has_addr)
		format(named + len, sizeof named - len, "at bus %u device %u", h->addr.bus, h->addr.device);
	else
		format(named + len, sizeof named - len, "(no address)");
	there_text(h, c, j, now, sizeof now);
	if (c->instead) {
		char dev[160];
		device_text(c->instead, dev, sizeof dev);
		format(got, sizeof got, "this VM was given %s instead", dev);
	}
	format(buf, size, "saved domain XML, line %lu: hostdev %s: %s; %s: resuming would attach another device "
	       "than the VM's; start the VM from scratch, discarding its saved state (hibernation or memory "
	       "snapshot)", h->line, named, now, got);
}
