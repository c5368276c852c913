/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for hostdev.c: the <hostdev> element, with and without the
 * device's address, and a <hostdev> read back as libvirt reads it.
 */
#include "hostdev.h"
#include "check.h"

#include <stdio.h>
#include <string.h>

static void test_hostdev_text(void)
{
	struct usb_id id = { 0x627, 1 };
	struct usb_addr addr = { 2, 13 };
	char text[HOSTDEV_SIZE];
	hostdev_text(id, NULL, text, sizeof text);
	CHECK_STR("hostdev: single match has the original's shape", text,
		  "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0x0627'/>\n"
		  "    <product id='0x0001'/>\n  </source>\n</hostdev>");
	hostdev_text(id, &addr, text, sizeof text);
	CHECK_STR("hostdev: an ambiguous id carries the address", text,
		  "<hostdev mode='subsystem' type='usb'>\n  <source>\n    <vendor id='0x0627'/>\n"
		  "    <product id='0x0001'/>\n    <address bus='2' device='13'/>\n  </source>\n</hostdev>");
	hostdev_text((struct usb_id){ 0xffff, 0xffff }, &(struct usb_addr){ MAX_BUS_OR_DEVNUM, MAX_BUS_OR_DEVNUM },
		     text, sizeof text);
	size_t len = strlen(text);
	CHECK("hostdev: the longest fits HOSTDEV_SIZE", len < sizeof text - 1 && len > 10 &&
	      strcmp(text + len - 10, "</hostdev>") == 0 && strstr(text, "bus='999' device='999'"));
}

static struct error err;

/* hostdev_read of the fields mode, type, vendor, product, bus, device (NULL: absent; "&": unreadable) */
static const char *read_hostdev(const char *mode, const char *type, const char *vendor, const char *product,
				const char *bus, const char *device)
{
	static char out[1100];
	struct hostdev_values v = { .line = 7, .text = { mode, type, vendor, product, bus, device } };
	for (int f = 0; f < HOSTDEV_FIELDS; f++)
		if (v.text[f] && strcmp(v.text[f], "&") == 0) {
			v.text[f] = NULL;
			v.unreadable[f] = true;
		}
	struct saved_hostdev h;
	int rc = hostdev_read(&v, &h, &err);
	if (rc < 0)
		snprintf(out, sizeof out, "error: %s", err.message);
	else if (rc == 0)
		snprintf(out, sizeof out, "not USB");
	else
		snprintf(out, sizeof out, "line %lu id %s%04x:%04x addr %s%u/%u", h.line, h.has_id ? "" : "-",
			 h.id.vendor, h.id.product, h.has_addr ? "" : "-", h.addr.bus, h.addr.device);
	return out;
}

static void test_hostdev_read(void)
{
	CHECK_STR("hostdev_read: as libvirt writes it",
		  read_hostdev("subsystem", "usb", "0x0529", "0x0001", "1", "3"), "line 7 id 0529:0001 addr 1/3");
	CHECK_STR("hostdev_read: without an address",
		  read_hostdev("subsystem", "usb", "0x0781", "0x5567", NULL, NULL), "line 7 id 0781:5567 addr -0/0");
	CHECK_STR("hostdev_read: without mode (libvirt's default, subsystem), an address alone",
		  read_hostdev(NULL, "usb", NULL, NULL, "2", "4"), "line 7 id -0000:0000 addr 2/4");
	CHECK_STR("hostdev_read: numbers as libvirt reads them: hex in any case, decimal, octal",
		  read_hostdev("subsystem", "usb", "0XBEEF", "1321", "010", "0x1f"), "line 7 id beef:0529 addr 8/31");
	CHECK_STR("hostdev_read: bus 0 is no address, as libvirt takes it",
		  read_hostdev("subsystem", "usb", "0x0529", "0x0001", "0", "0"), "line 7 id 0529:0001 addr -0/0");
	CHECK_STR("hostdev_read: a PCI hostdev is not read", read_hostdev("subsystem", "pci", "zz", NULL, NULL, NULL),
		  "not USB");
	CHECK_STR("hostdev_read: capabilities mode is not read", read_hostdev("capabilities", "usb", NULL, NULL, NULL, NULL),
		  "not USB");
	CHECK_STR("hostdev_read: no type is not read", read_hostdev("subsystem", NULL, NULL, NULL, NULL, NULL), "not USB");
	CHECK_STR("hostdev_read: a vendor that is not a number",
		  read_hostdev("subsystem", "usb", "0x05z9", "0x0001", NULL, NULL),
		  "error: line 7: <hostdev> source/vendor@id \"0x05z9\": not a number libvirt reads here");
	CHECK_STR("hostdev_read: a product past 0xffff",
		  read_hostdev("subsystem", "usb", "0x0529", "0x10000", NULL, NULL),
		  "error: line 7: <hostdev> source/product@id \"0x10000\": not a number libvirt reads here");
	CHECK_STR("hostdev_read: a bus past 999, a sign, a space, nothing after 0x",
		  read_hostdev("subsystem", "usb", "0x0529", "0x0001", "1000", "1"),
		  "error: line 7: <hostdev> source/address@bus \"1000\": not a number libvirt reads here");
	CHECK("hostdev_read: a sign, a space, an empty value, a bare 0x are refused",
	      strncmp(read_hostdev("subsystem", "usb", "+1", "1", NULL, NULL), "error", 5) == 0 &&
	      strncmp(read_hostdev("subsystem", "usb", " 1", "1", NULL, NULL), "error", 5) == 0 &&
	      strncmp(read_hostdev("subsystem", "usb", "", "1", NULL, NULL), "error", 5) == 0 &&
	      strncmp(read_hostdev("subsystem", "usb", "0x", "1", NULL, NULL), "error", 5) == 0 &&
	      strncmp(read_hostdev("subsystem", "usb", "09", "1", NULL, NULL), "error", 5) == 0);
	CHECK_STR("hostdev_read: a vendor without a product",
		  read_hostdev("subsystem", "usb", "0x0529", NULL, NULL, NULL),
		  "error: line 7: <hostdev>: vendor and product ids, and bus and device numbers, go in pairs");
	CHECK_STR("hostdev_read: a bus without a device",
		  read_hostdev("subsystem", "usb", "0x0529", "0x0001", "1", NULL),
		  "error: line 7: <hostdev>: vendor and product ids, and bus and device numbers, go in pairs");
	CHECK_STR("hostdev_read: a field not read (an entity in it)",
		  read_hostdev("subsystem", "usb", "&", "0x0001", NULL, NULL),
		  "error: line 7: <hostdev> source/vendor@id: refers to an entity or is too long, not read");
	CHECK_STR("hostdev_read: a type not read", read_hostdev("subsystem", "&", NULL, NULL, NULL, NULL),
		  "error: line 7: <hostdev>: its mode or type refers to an entity or is too long, not read");
}

int main(void)
{
	test_hostdev_text();
	test_hostdev_read();
	return check_status();
}
