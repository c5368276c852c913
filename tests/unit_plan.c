/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the plan (plan.h): which device each entry of the property
 * gets, from a device list and a journal made here, as a scan and a journal
 * read would make them.
 */
#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "plan.h"
#include "request.h"
#include "check.h"

#define VM1 "6c2ec2f6-7a3b-4a1d-9a6f-3b1ef0a1c0de"
#define VM2 "0f0e0d0c-0b0a-4909-8807-060504030201"

static struct usb_device devices[16];
static struct usb_device_list list = { devices, 0 };
static struct journal journal;
static struct plan plan;
static struct error err;

/* A device as the scan reads it; serial NULL: none.  Add them in address order. */
static void add(const char *port, unsigned vendor, unsigned product, unsigned bus, unsigned devnum,
		const char *serial, bool hub)
{
	struct usb_device *d = &devices[list.count++];
	bool cut;
	*d = (struct usb_device){ .id = { vendor, product }, .addr = { bus, devnum }, .hub = hub };
	snprintf(d->name, sizeof d->name, "%s", port);
	if (sysfs_parse_port_name(port, strlen(port), &d->port) < 0)
		printf("FAIL fixture: port %s\n", port);
	d->serial_kind = serial ? sysfs_parse_serial(serial, strlen(serial), d->serial, &cut) : USB_SERIAL_NONE;
}

/*
 * The host: a hub on 1-1 with two dongles 0529:0001 behind it (A1B2, C3D4),
 * a third with C3D4 too on 1-2, two tablets 0627:0001 without serial, a
 * stick 0781:5567 on the USB 3 bus.
 */
static void host(void)
{
	list.count = 0;
	add("usb1", 0x1d6b, 0x0002, 1, 1, "0000:00:01.0", true);
	add("1-1", 0x05e3, 0x0608, 1, 2, NULL, true);
	add("1-1.1", 0x0529, 0x0001, 1, 3, "A1B2", false);
	add("1-1.2", 0x0529, 0x0001, 1, 4, "C3D4", false);
	add("1-2", 0x0529, 0x0001, 1, 5, "C3D4", false);
	add("1-3", 0x0627, 0x0001, 1, 6, NULL, false);
	add("1-4", 0x0627, 0x0001, 1, 7, NULL, false);
	add("usb2", 0x1d6b, 0x0003, 2, 1, "0000:00:01.0", true);
	add("2-1", 0x0781, 0x5567, 2, 2, "4C530001", false);
}

/* The plan for property with the journal text; 0 or -1, as plan_make. */
static int make(const char *property, const char *journal_text, const char *vmid)
{
	struct request req;
	err.message[0] = '\0';
	if (parse_property(property, &req, &err) < 0) {
		printf("  property %s: %s\n", property, err.message);
		return -2;
	}
	if (journal_parse(journal_text, strlen(journal_text), &journal, &err) < 0) {
		printf("  journal: %s\n", err.message);
		return -2;
	}
	int rc = plan_make(&req, &list, &journal, vmid, &plan, &err);
	journal_free(&journal);
	return rc;
}

/* What each entry got: "1/3 1/6+ -absent -held(VM)" (+: with its address). */
static const char *fates(char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < plan.count && used < size; i++) {
		const struct plan_entry *p = &plan.entries[i];
		const char *sep = i ? " " : "";
		int n;
		if (p->fate == PLAN_CLAIMED)
			n = snprintf(buf + used, size - used, "%s%u/%u%s", sep, devices[p->device].addr.bus,
				     devices[p->device].addr.device, p->address ? "+" : "");
		else if (p->fate == PLAN_ABSENT)
			n = snprintf(buf + used, size - used, "%s-absent", sep);
		else
			n = snprintf(buf + used, size - used, "%s-held(%s)", sep, p->holder[0] ? p->holder : "?");
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return buf;
}

/* CHECK_PLAN: the plan succeeds and gives what want says */
static void check_plan(const char *name, const char *property, const char *journal_text, const char *want)
{
	char got[256];
	if (make(property, journal_text, VM1) == 0)
		CHECK_STR(name, fates(got, sizeof got), want);
	else
		CHECK_STR(name, err.message, want);
}

static void check_refused(const char *name, const char *property, const char *journal_text, const char *want)
{
	char got[256];
	if (make(property, journal_text, VM1) == -1)
		CHECK_STR(name, err.message, want);
	else
		CHECK_STR(name, fates(got, sizeof got), want);
}

static void test_plain_ids(void)
{
	host();
	check_plan("plain: a unique id, no address", "0x0781:0x5567", "", "2/2");
	check_plan("plain: a shared id, lowest first, with the address", "0x0627:0x0001&0x0627:0x0001", "", "1/6+ 1/7+");
	check_plan("plain: a held device is skipped", "0x0627:0x0001", "/dev/bus/usb/001/006:0:0:" VM2 ":0600\n",
		   "1/7+");
	check_plan("plain: this VM's own first", "0x0627:0x0001", "/dev/bus/usb/001/007:0:0:" VM1 ":0600\n", "1/7+");
	check_refused("plain: too few free names the holder", "0x0627:0x0001&0x0627:0x0001",
		      "/dev/bus/usb/001/006:0:0:" VM2 ":0600\n",
		      "device 0x0627:0x0001: 2 requested, 1 free; /dev/bus/usb/001/006 is held by VM " VM2);
	check_refused("plain: a line without vmId holds too", "0x0627:0x0001&0x0627:0x0001",
		      "/dev/bus/usb/001/007:0:0\n",
		      "device 0x0627:0x0001: 2 requested, 1 free; /dev/bus/usb/001/007 is held by an unknown VM (a line "
		      "without vmId)");
}

static void test_serials(void)
{
	host();
	check_plan("serial: its device, with the address (the id is shared)", "0x0529:0x0001#A1B2", "", "1/3+");
	check_plan("serial: named entries first, plain ids take what is left",
		   "0x0529:0x0001&0x0529:0x0001#A1B2", "", "1/4+ 1/3+");
	check_refused("serial: unknown", "0x0529:0x0001#ZZ", "",
		      "entry 1 0x0529:0x0001#ZZ: no device 0529:0001 with serial ZZ is present (hostusb list shows the "
		      "serials)");
	check_refused("serial: of another id is unknown", "0x0627:0x0001#A1B2", "",
		      "entry 1 0x0627:0x0001#A1B2: no device 0627:0001 with serial A1B2 is present (hostusb list shows "
		      "the serials)");
	check_refused("serial: shared by two devices, the port form suggested", "0x0781:0x5567&0x0529:0x0001#C3D4", "",
		      "entry 2 0x0529:0x0001#C3D4: 2 devices of 0529:0001 have serial C3D4 (ports 1-1.2 and 1-2): name "
		      "one by its port, e.g. 0x0529:0x0001@1-1.2");
	check_refused("serial: ambiguous even when optional", "?0x0529:0x0001#C3D4", "",
		      "entry 1 ?0x0529:0x0001#C3D4: 2 devices of 0529:0001 have serial C3D4 (ports 1-1.2 and 1-2): name "
		      "one by its port, e.g. 0x0529:0x0001@1-1.2");
	check_refused("serial: held by another VM, named", "0x0529:0x0001#A1B2",
		      "/dev/bus/usb/001/003:0:0:" VM2 ":0600\n",
		      "entry 1 0x0529:0x0001#A1B2: /dev/bus/usb/001/003 is held by VM " VM2);
	check_plan("serial: held by this VM, taken again", "0x0529:0x0001#A1B2",
		   "/dev/bus/usb/001/003:0:0:" VM1 ":0600\n", "1/3+");
	check_refused("serial: a plain id cannot take what a serial named",
		      "0x0529:0x0001&0x0529:0x0001&0x0529:0x0001&0x0529:0x0001#A1B2", "",
		      "device 0x0529:0x0001: 3 requested, 2 free; the others are named by other entries");
}

static void test_ports(void)
{
	host();
	check_plan("port: the device there, with the address", "0x0529:0x0001@1-2", "", "1/5+");
	check_plan("port: a unique id on its port, no address", "0x0781:0x5567@2-1", "", "2/2");
	check_plan("port alone: always the address", "@2-1", "", "2/2+");
	check_refused("port: another id there", "0x0781:0x5567&0x0529:0x0001@1-3", "",
		      "entry 2 0x0529:0x0001@1-3: port 1-3 has 0627:0001, not 0529:0001");
	check_refused("port: another id, optional too", "?0x0529:0x0001@1-3", "",
		      "entry 1 ?0x0529:0x0001@1-3: port 1-3 has 0627:0001, not 0529:0001");
	check_refused("port: a hub", "@1-1", "",
		      "entry 1 @1-1: port 1-1 has a hub (05e3:0608), which is not given to a VM: name a port behind it");
	check_refused("port: nothing there", "@1-9", "", "entry 1 @1-9: no device on port 1-9");
	check_refused("port and serial naming one device", "0x0529:0x0001@1-1.1&0x0781:0x5567&0x0529:0x0001#A1B2", "",
		      "entry 1 0x0529:0x0001@1-1.1 and entry 3 0x0529:0x0001#A1B2 name the same device (port 1-1.1, bus 1 "
		      "device 3)");
	check_refused("the same port twice", "@1-3&@1-3", "",
		      "entry 1 @1-3 and entry 2 @1-3 name the same device (port 1-3, bus 1 device 6)");
	check_plan("port: a plain id takes another device", "0x0627:0x0001&@1-3", "", "1/7+ 1/6+");
}

static void test_optional(void)
{
	host();
	check_plan("optional: an unknown serial is skipped", "?0x0529:0x0001#ZZ&0x0781:0x5567", "", "-absent 2/2");
	check_plan("optional: nothing on the port", "?@1-9", "", "-absent");
	check_plan("optional: held by another VM", "?0x0529:0x0001#A1B2", "/dev/bus/usb/001/003:0:0:" VM2 ":0600\n",
		   "-held(" VM2 ")");
	check_plan("optional: too few of an id, the last optional ones skipped",
		   "?0x0627:0x0001&0x0627:0x0001&?0x0627:0x0001", "/dev/bus/usb/001/006:0:0:" VM2 ":0600\n",
		   "-held(" VM2 ") 1/7+ -held(" VM2 ")");
	check_plan("optional: none of an id present", "?0x1234:0xbeef", "", "-absent");
	check_plan("optional: present and free, taken", "?0x0529:0x0001#A1B2", "", "1/3+");
	char text[128];
	struct request req;
	make("?0x0529:0x0001#A1B2", "/dev/bus/usb/001/003:0:0\n", VM1);
	parse_property("?0x0529:0x0001#A1B2", &req, &err);
	plan_skip_text(&req, &plan, 0, text, sizeof text);
	CHECK_STR("optional: why skipped, held by a line without vmId", text,
		  "0x0529:0x0001#A1B2 held by an unknown VM (a line without vmId)");
	make("?@1-9", "", VM1);
	parse_property("?@1-9", &req, &err);
	plan_skip_text(&req, &plan, 0, text, sizeof text);
	CHECK_STR("optional: why skipped, not present", text, "@1-9 not present");
}

/*
 * Hubs: a root hub with a serial, a hub 05e3:0608 with serial S1 on 1-1, and
 * on 1-2 a device that is not a hub with the hub's id and serial.
 */
static void hub_host(void)
{
	list.count = 0;
	add("usb1", 0x1d6b, 0x0002, 1, 1, "0000:00:01.0", true);
	add("1-1", 0x05e3, 0x0608, 1, 2, "S1", true);
	add("1-1.1", 0x0529, 0x0001, 1, 3, "A1B2", false);
	add("1-2", 0x05e3, 0x0608, 1, 4, "S1", false);
}

/* plan_check_present's verdict on property: "ok" or its message */
static const char *present(const char *property)
{
	struct request req;
	if (parse_property(property, &req, &err) < 0)
		return err.message;
	return plan_check_present(&req, &list, &err) == 0 ? "ok" : err.message;
}

static void test_hubs(void)
{
	hub_host();
	check_refused("hub: a root hub's id, refused naming it", "0x1d6b:0x0002", "",
		      "entry 1 0x1d6b:0x0002: every device of this id is a hub (usb1, /dev/bus/usb/001/001), and a hub is "
		      "never given to a VM");
	check_refused("hub: even when optional", "0x0529:0x0001&?0x1d6b:0x0002", "",
		      "entry 2 ?0x1d6b:0x0002: every device of this id is a hub (usb1, /dev/bus/usb/001/001), and a hub "
		      "is never given to a VM");
	check_refused("hub: by its serial", "0x1d6b:0x0002#0000:00:01.0", "",
		      "entry 1 0x1d6b:0x0002#0000:00:01.0: the device with this serial is a hub (usb1, "
		      "/dev/bus/usb/001/001), and a hub is never given to a VM");
	check_refused("hub: by its serial, optional", "?0x1d6b:0x0002#0000:00:01.0", "",
		      "entry 1 ?0x1d6b:0x0002#0000:00:01.0: the device with this serial is a hub (usb1, "
		      "/dev/bus/usb/001/001), and a hub is never given to a VM");
	check_refused("hub: on its port", "@1-1", "",
		      "entry 1 @1-1: port 1-1 has a hub (05e3:0608), which is not given to a VM: name a port behind it");
	check_plan("hub: a plain id takes the device of that id that is not a hub", "0x05e3:0x0608", "", "1/4+");
	check_plan("hub: so does a serial a hub shares", "0x05e3:0x0608#S1", "", "1/4+");
	check_refused("hub: never the second device of an id", "0x05e3:0x0608&0x05e3:0x0608", "",
		      "device 0x05e3:0x0608: 2 requested, 1 free; 1-1 (/dev/bus/usb/001/002) is a hub, never given to a "
		      "VM");
	check_plan("hub: an optional second entry is skipped", "0x05e3:0x0608&?0x05e3:0x0608", "", "1/4+ -absent");
	CHECK_STR("present: a hub's id alone, refused naming it", present("0x1d6b:0x0002"),
		  "entry 1 0x1d6b:0x0002: every device of this id is a hub (usb1, /dev/bus/usb/001/001), and a hub is "
		  "never given to a VM");
	CHECK_STR("present: the optional entry of a hub's id too", present("?0x1d6b:0x0002"),
		  "entry 1 ?0x1d6b:0x0002: every device of this id is a hub (usb1, /dev/bus/usb/001/001), and a hub "
		  "is never given to a VM");
	CHECK_STR("present: hubs are not counted", present("0x05e3:0x0608&0x05e3:0x0608"),
		  "device 0x05e3:0x0608: 2 requested, 1 present (and hubs, which are never given to a VM)");
	CHECK_STR("present: enough devices that are not hubs", present("0x05e3:0x0608&0x0529:0x0001"), "ok");
	CHECK_STR("present: an id no device has", present("0x1234:0xbeef"),
		  "device 0x1234:0xbeef: 1 requested, 0 present");
	CHECK_STR("present: an id no device has, optional", present("?0x1234:0xbeef"), "ok");
}

/*
 * What plan_select_releases gives back for property, the journal text and
 * vmid: the addresses of the lines it marks, in the journal's order, then
 * missing[] per entry: "1/6 1/7; missing 0 1" ("none" when it marks none).
 */
static const char *releases(const char *property, const char *journal_text, const char *vmid, char *buf,
			    size_t size)
{
	struct request req = { .count = 0 };   /* "": none, as a release or a destroy without the property */
	bool release[16];
	size_t missing[MAX_ENTRIES], used = 0;
	if ((property[0] && parse_property(property, &req, &err) < 0) ||
	    journal_parse(journal_text, strlen(journal_text), &journal, &err) < 0)
		return err.message;
	plan_select_releases(&req, &list, &journal, vmid, release, missing);
	buf[0] = '\0';
	for (size_t i = 0; i < journal.count && used < size; i++)
		if (release[i])
			used += (size_t)snprintf(buf + used, size - used, "%s%u/%u", used ? " " : "",
						 journal.entries[i].addr.bus, journal.entries[i].addr.device);
	used += (size_t)snprintf(buf + used, size - used, "%s; missing", used ? "" : "none");
	for (size_t r = 0; r < req.count && used < size; r++)
		used += (size_t)snprintf(buf + used, size - used, " %zu", missing[r]);
	journal_free(&journal);
	return buf;
}

#define LINE(addr, vmid) "/dev/bus/usb/" addr ":0:0:" vmid ":0600\n"

static void test_releases(void)
{
	char got[256];
	host();
	CHECK_STR("release: every line of this vmId, not another VM's",
		  releases("", LINE("001/006", VM1) LINE("001/007", VM2) LINE("002/002", VM1), VM1, got, sizeof got),
		  "1/6 2/2; missing");
	CHECK_STR("release: a line of this vmId whose device is gone",
		  releases("0x0627:0x0001", LINE("003/009", VM1), VM1, got, sizeof got), "3/9; missing 1");
	CHECK_STR("release: a line without vmId of the id, when the VM holds fewer than requested",
		  releases("0x0627:0x0001&0x0627:0x0001", LINE("001/006", VM1) LINE("001/007", ""), VM1, got,
			   sizeof got), "1/6 1/7; missing 0 0");
	CHECK_STR("release: no line without vmId when the VM holds as many as requested",
		  releases("0x0627:0x0001", LINE("001/006", VM1) LINE("001/007", ""), VM1, got, sizeof got),
		  "1/6; missing 0");
	CHECK_STR("release: lines without vmId taken ascending, whatever the journal's order",
		  releases("0x0627:0x0001", LINE("001/007", "") LINE("001/006", ""), VM1, got, sizeof got),
		  "1/6; missing 0");
	CHECK_STR("release: the Python hook's lines, run together",
		  releases("0x0627:0x0001&0x0627:0x0001", "/dev/bus/usb/001/007:0:0/dev/bus/usb/001/006:0:0", VM1, got,
			   sizeof got), "1/7 1/6; missing 0 0");
	CHECK_STR("release: a line without vmId of another id stays",
		  releases("0x0627:0x0001", LINE("002/002", ""), VM1, got, sizeof got), "none; missing 1");
	CHECK_STR("release: another VM's line is never given back, and counts as missing",
		  releases("0x0627:0x0001", LINE("001/006", VM2), VM1, got, sizeof got), "none; missing 1");
	CHECK_STR("release: what is missing, once per id, for each id of the property",
		  releases("0x0627:0x0001&0x0627:0x0001&0x0781:0x5567", LINE("001/006", VM1), VM1, got, sizeof got),
		  "1/6; missing 1 0 1");
	CHECK_STR("release: optional entries ask for nothing",
		  releases("?0x0627:0x0001", LINE("001/007", ""), VM1, got, sizeof got), "none; missing 0");
	CHECK_STR("release: an entry naming a serial counts for its id",
		  releases("0x0529:0x0001#A1B2", LINE("001/003", ""), VM1, got, sizeof got), "1/3; missing 0");
	CHECK_STR("release: a port alone names no id: nothing without vmId is given back",
		  releases("@1-3", LINE("001/006", ""), VM1, got, sizeof got), "none; missing 0");
	CHECK_STR("release: without vmId, only lines without one",
		  releases("0x0627:0x0001", LINE("001/006", VM1) LINE("001/007", ""), "", got, sizeof got),
		  "1/7; missing 0");
}

/* plan_property_value of the device at bus/device */
static const char *value_of(unsigned bus, unsigned device, char *buf, size_t size)
{
	const struct usb_device *dev = sysfs_find(&list, (struct usb_addr){ bus, device });
	if (!dev)
		return "(no such device)";
	plan_property_value(&list, dev, buf, size);
	return buf;
}

static void test_property_values(void)
{
	char got[128];
	host();
	CHECK_STR("value: an id no other device has", value_of(2, 2, got, sizeof got), "0x0781:0x5567");
	CHECK_STR("value: a shared id with a serial unique among it", value_of(1, 3, got, sizeof got),
		  "0x0529:0x0001#A1B2");
	CHECK_STR("value: a serial two devices of the id share: the port", value_of(1, 4, got, sizeof got),
		  "0x0529:0x0001@1-1.2");
	CHECK_STR("value: the other of them", value_of(1, 5, got, sizeof got), "0x0529:0x0001@1-2");
	CHECK_STR("value: a shared id without serial: the port", value_of(1, 6, got, sizeof got), "0x0627:0x0001@1-3");
	CHECK_STR("value: a root hub", value_of(1, 1, got, sizeof got), "-");
	CHECK_STR("value: a hub", value_of(1, 2, got, sizeof got), "-");
	hub_host();
	CHECK_STR("value: a device sharing its id and serial with a hub: the port", value_of(1, 4, got, sizeof got),
		  "0x05e3:0x0608@1-2");
	CHECK_STR("value: cut short, never past the buffer", value_of(1, 3, got, 8), "0x0529:");
	char small[14];
	CHECK_STR("value: the id alone when the serial does not fit", value_of(1, 3, small, sizeof small),
		  "0x0529:0x0001");
}

static void test_required_count(void)
{
	struct request req;
	parse_property("0x0529:0x0001&?0x0529:0x0001&0x0529:0x0001#A1B2&@1-2&0x0529:0x0001@1-3", &req, &err);
	CHECK("required: plain, serial and port entries of the id, not the optional one nor a port alone",
	      plan_required(&req, (struct usb_id){ 0x0529, 0x0001 }) == 3);
}

/* ---- resuming from a saved domain XML ---- */

static struct saved_hostdev saved[8];
static struct resume_check checks[8];
static size_t nsaved;

/* A saved hostdev: "0529:0001@1/3", "0781:5567" (no address), "@1/4" (no id). */
static void saved_add(const char *spec)
{
	struct saved_hostdev *h = &saved[nsaved++];
	*h = (struct saved_hostdev){ .line = 10 + nsaved };
	h->has_id = spec[0] != '@';
	if (h->has_id && sscanf(spec, "%4x:%4x", &h->id.vendor, &h->id.product) != 2)
		printf("FAIL fixture: saved %s\n", spec);
	const char *at = strchr(spec, '@');
	h->has_addr = at && sscanf(at + 1, "%u/%u", &h->addr.bus, &h->addr.device) == 2;
}

/* The verdicts on the saved hostdevs, "fine refused(1/3>1/4) alone refused(-/2>-)": there > instead; of_id without address. */
static const char *resume(const char *property, const char *journal_text, const char *vmid, const char *specs)
{
	static char out[256];
	struct request req;
	char copy[128];
	nsaved = 0;
	journal_free(&journal);
	snprintf(copy, sizeof copy, "%s", specs);
	for (char *spec = strtok(copy, " "); spec; spec = strtok(NULL, " "))
		saved_add(spec);
	if (parse_property(property, &req, &err) < 0 ||
	    journal_parse(journal_text, strlen(journal_text), &journal, &err) < 0)
		return err.message;
	plan_resume(&req, saved, nsaved, &list, &journal, vmid, checks);
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < nsaved && used < sizeof out; i++) {
		const struct resume_check *c = &checks[i];
		char there[16] = "-", instead[16] = "-";
		if (c->there)
			snprintf(there, sizeof there, "%u/%u", c->there->addr.bus, c->there->addr.device);
		if (!saved[i].has_addr)
			snprintf(there, sizeof there, "%zu", c->of_id);
		if (c->instead)
			snprintf(instead, sizeof instead, "%u/%u", c->instead->addr.bus, c->instead->addr.device);
		int n = c->verdict == RESUME_FINE ? snprintf(out + used, sizeof out - used, "%sfine", i ? " " : "")
		      : c->verdict == RESUME_NOT_OURS ? snprintf(out + used, sizeof out - used, "%salone", i ? " " : "")
		      : snprintf(out + used, sizeof out - used, "%srefused(%s>%s)", i ? " " : "", there, instead);
		used += n > 0 ? (size_t)n : 0;
	}
	return out;
}

#define HOLDS(bus, dev, vm) "/dev/bus/usb/00" #bus "/00" #dev ":0:0:" vm ":0600\n"

static void test_resume(void)
{
	host();
	CHECK_STR("resume: the saved address is the other key now: refused, naming both",
		  resume("0x0529:0x0001#C3D4", HOLDS(1, 4, VM1), VM1, "0529:0001@1/3"), "refused(1/3>1/4)");
	CHECK_STR("resume: nothing moved: fine", resume("0x0529:0x0001#C3D4", HOLDS(1, 4, VM1), VM1, "0529:0001@1/4"),
		  "fine");
	CHECK_STR("resume: another id at the saved address: refused",
		  resume("0x0529:0x0001", HOLDS(1, 4, VM1), VM1, "0529:0001@1/6"), "refused(1/6>1/4)");
	CHECK_STR("resume: nothing at the saved address: refused",
		  resume("0x0529:0x0001", HOLDS(1, 4, VM1), VM1, "0529:0001@1/9"), "refused(->1/4)");
	CHECK_STR("resume: no address, the one device of its id, held: fine",
		  resume("0x0781:0x5567", HOLDS(2, 2, VM1), VM1, "0781:5567"), "fine");
	CHECK_STR("resume: no address, two devices of its id: refused",
		  resume("0x0627:0x0001", HOLDS(1, 6, VM1), VM1, "0627:0001"), "refused(2>1/6)");
	CHECK_STR("resume: no address, the one device of its id, not held: refused",
		  resume("0x0781:0x5567", "", VM1, "0781:5567"), "refused(1>-)");
	CHECK_STR("resume: the id at the address, held by another VM: refused",
		  resume("0x0529:0x0001", HOLDS(1, 3, VM2) HOLDS(1, 4, VM1), VM1, "0529:0001@1/3"), "refused(1/3>1/4)");
	CHECK_STR("resume: an id not asked for, at no address of this VM's: left alone",
		  resume("0x0529:0x0001", HOLDS(1, 4, VM1), VM1, "046d:c52b@1/9 046d:c52b 0529:0001@1/4"),
		  "alone alone fine");
	CHECK_STR("resume: an id not asked for at an address this VM holds: refused",
		  resume("0x0529:0x0001", HOLDS(1, 4, VM1), VM1, "046d:c52b@1/4"), "refused(1/4>-)");
	CHECK_STR("resume: the id of a device a port gave this VM: its own",
		  resume("@1-2", HOLDS(1, 5, VM1), VM1, "0529:0001@1/3"), "refused(1/3>1/5)");
	CHECK_STR("resume: an address alone, this VM's: fine", resume("@1-2", HOLDS(1, 5, VM1), VM1, "@1/5"), "fine");
	CHECK_STR("resume: instead is a device no fine hostdev names",
		  resume("0x0529:0x0001&0x0529:0x0001", HOLDS(1, 3, VM1) HOLDS(1, 4, VM1), VM1,
			 "0529:0001@1/3 0529:0001@1/5"), "fine refused(1/5>1/4)");
	CHECK_STR("resume: another VM's lines do not make its hostdevs this VM's",
		  resume("0x0781:0x5567", HOLDS(1, 4, VM2), VM1, "0529:0001@1/3"), "alone");

	char text[1024];
	resume("0x0529:0x0001#C3D4", HOLDS(1, 3, VM2) HOLDS(1, 4, VM1), VM1, "0529:0001@1/3");
	plan_resume_text(&saved[0], &checks[0], &journal, text, sizeof text);
	CHECK_STR("resume text: the saved address, what is there, the device given instead, what to do", text,
		  "saved domain XML, line 11: hostdev 0529:0001 at bus 1 device 3: there is now 0529:0001 serial A1B2 "
		  "on port 1-1.1 (bus 1 device 3), held by VM " VM2 "; this VM was given 0529:0001 serial C3D4 on port "
		  "1-1.2 (bus 1 device 4) instead: resuming would attach another device than the VM's; start the VM "
		  "from scratch, discarding its saved state (hibernation or memory snapshot)");
	resume("0x0781:0x5567", "", VM1, "0781:5567");
	plan_resume_text(&saved[0], &checks[0], &journal, text, sizeof text);
	CHECK_STR("resume text: without an address", text,
		  "saved domain XML, line 11: hostdev 0781:5567 (no address): the one device of that id is 0781:5567 "
		  "serial 4C530001 on port 2-1 (bus 2 device 2), held by no VM; this VM holds no device of that id: "
		  "resuming would attach another device than the VM's; start the VM from scratch, discarding its "
		  "saved state (hibernation or memory snapshot)");
	resume("0x0529:0x0001", HOLDS(1, 4, VM1), VM1, "0529:0001@1/9");
	plan_resume_text(&saved[0], &checks[0], &journal, text, sizeof text);
	CHECK("resume text: nothing at the address says so", strstr(text, "bus 1 device 9: no device is there now;"));
	journal_free(&journal);
}

int main(void)
{
	test_plain_ids();
	test_serials();
	test_ports();
	test_optional();
	test_hubs();
	test_required_count();
	test_resume();
	test_releases();
	test_property_values();
	return check_status();
}
