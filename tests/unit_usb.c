/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for usb.c: device node paths, the comparisons of ids, addresses
 * and ports, and port paths, parsed, scanned, formatted and as sysfs entry
 * names.
 */
#include "usb.h"
#include "check.h"

static void test_node_path(void)
{
	struct usb_addr dev = { .bus = 1, .device = 5 };
	char buf[64];

	CHECK("node path: returns length", sysfs_node_path(dev, buf, sizeof buf) == 20);
	CHECK_STR("node path: 1/5", buf, "/dev/bus/usb/001/005");
	dev.bus = 999, dev.device = 999;
	sysfs_node_path(dev, buf, sizeof buf);
	CHECK_STR("node path: 999/999", buf, "/dev/bus/usb/999/999");
	dev.bus = 12, dev.device = 34;
	sysfs_node_path(dev, buf, sizeof buf);
	CHECK_STR("node path: 12/34", buf, "/dev/bus/usb/012/034");
	char small[8];
	CHECK("node path: truncation reported", sysfs_node_path(dev, small, sizeof small) == 20);
	CHECK_STR("node path: truncated output terminated", small, "/dev/bu");
}

/* ---- comparisons ---- */

static void test_comparisons(void)
{
	struct usb_addr a = { 1, 5 }, b = { 2, 1 }, c = { 1, 30 };
	CHECK("addr compare: by bus first", usb_addr_compare(a, b) < 0 && usb_addr_compare(b, a) > 0 &&
	      usb_addr_compare(c, b) < 0);
	CHECK("addr compare: then by device", usb_addr_compare(a, c) < 0 && usb_addr_compare(c, a) > 0);
	CHECK("addr compare: equal", usb_addr_compare(c, (struct usb_addr){ 1, 30 }) == 0);
	CHECK("addr compare: the largest values", usb_addr_compare((struct usb_addr){ 0xffffffffu, 0 }, a) > 0 &&
	      usb_addr_compare((struct usb_addr){ 1, 0xffffffffu }, c) > 0);

	struct usb_id id = { 0x0627, 0x0001 };
	CHECK("id equal: the same", usb_id_equal(id, (struct usb_id){ 0x0627, 0x0001 }));
	CHECK("id equal: another vendor", !usb_id_equal(id, (struct usb_id){ 0x0628, 0x0001 }));
	CHECK("id equal: another product", !usb_id_equal(id, (struct usb_id){ 0x0627, 0x0002 }));

	struct usb_port p = { .bus = 1, .depth = 2, .ports = { 3, 1, 9 } };
	struct usb_port q = { .bus = 1, .depth = 2, .ports = { 3, 1, 4 } };
	CHECK("port equal: ports beyond the depth do not count", usb_port_equal(&p, &q));
	q.ports[1] = 2;
	CHECK("port equal: another port", !usb_port_equal(&p, &q));
	q = p, q.depth = 3;
	CHECK("port equal: another depth", !usb_port_equal(&p, &q));
	q = p, q.bus = 2;
	CHECK("port equal: another bus", !usb_port_equal(&p, &q));
}

/* ---- port paths ---- */

static bool port_parses(const char *text, unsigned bus, unsigned depth, const unsigned char *ports)
{
	struct usb_port port;
	if (usb_port_parse(text, strlen(text), &port) < 0 || port.bus != bus || port.depth != depth)
		return false;
	return memcmp(port.ports, ports, depth) == 0;
}

static void test_port_parse(void)
{
	static const unsigned char p3_1[] = { 3, 1 }, p31[] = { 31 }, p7[] = { 1, 2, 3, 4, 5, 6, 7 };
	CHECK("port: 1-3.1", port_parses("1-3.1", 1, 2, p3_1));
	CHECK("port: bus 999, port 31", port_parses("999-31", 999, 1, p31));
	CHECK("port: 7 levels", port_parses("2-1.2.3.4.5.6.7", 2, 7, p7));
	static const char *const bad[] = {
		"", "1", "1-", "1-3.", "-1", "0-1", "01-1", "1000-1", "1-0", "1-01", "1-32", "1-40", "1-3..1",
		"1-1.2.3.4.5.6.7.8", "usb1", "1-3:1.0", "1-3.1\n", " 1-3", "1-3 ", "1_3", "1-3.1a", "4294967297-1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[96];
		struct usb_port port = { .bus = 77 };
		snprintf(name, sizeof name, "port: \"%.*s%s\" refused, port untouched", (int)strcspn(bad[i], "\n"), bad[i],
			 strchr(bad[i], '\n') ? "\\n" : "");
		CHECK(name, usb_port_parse(bad[i], strlen(bad[i]), &port) < 0 && port.bus == 77);
	}
	struct usb_port port;
	CHECK("port: only len bytes are read", usb_port_parse("1-3.1x", 5, &port) == 0 && port.depth == 2);
}

static void test_port_scan(void)
{
	static const struct {
		const char *text;
		size_t begins;
		bool whole;
	} cases[] = {
		{ "1-3.1", 5, true }, { "1-3.", 4, false }, { "1-32", 3, false }, { "1000-1", 3, false },
		{ "0-1", 0, false }, { "1-1.1.1.1.1.1.1.1", 15, false }, { "12", 2, false }, { "1-3#", 3, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char name[96];
		struct usb_port port;
		bool whole = !cases[i].whole;
		size_t n = usb_port_scan(cases[i].text, strlen(cases[i].text), &port, &whole);
		snprintf(name, sizeof name, "port scan: \"%s\" begins with %zu bytes of one%s", cases[i].text,
			 cases[i].begins, cases[i].whole ? ", whole" : "");
		CHECK(name, n == cases[i].begins && whole == cases[i].whole);
	}
}

static void test_port_format(void)
{
	char buf[USB_PORT_TEXT_SIZE];
	struct usb_port port = { .bus = 1, .depth = 2, .ports = { 3, 1 } };
	CHECK("port format: 1-3.1", usb_port_format(&port, buf, sizeof buf) == 5 && strcmp(buf, "1-3.1") == 0);
	port = (struct usb_port){ .bus = 1 };
	CHECK("port format: a root hub is usb1", usb_port_format(&port, buf, sizeof buf) == 4 && strcmp(buf, "usb1") == 0);
	port = (struct usb_port){ .bus = 999, .depth = 7, .ports = { 31, 31, 31, 31, 31, 31, 31 } };
	CHECK_STR("port format: the longest", (usb_port_format(&port, buf, sizeof buf), buf), "999-31.31.31.31.31.31.31");
	CHECK("port format: the longest fits USB_PORT_TEXT_SIZE", strlen(buf) < USB_PORT_TEXT_SIZE);
	char small[4];
	CHECK("port format: cut short, returns the whole length",
	      usb_port_format(&port, small, sizeof small) == 24 && strcmp(small, "999") == 0);
	port = (struct usb_port){ .bus = 2, .depth = 3, .ports = { 1, 10, 4 } };
	struct usb_port back;
	usb_port_format(&port, buf, sizeof buf);
	CHECK("port format: parses back", usb_port_parse(buf, strlen(buf), &back) == 0 && back.bus == 2 &&
	      back.depth == 3 && memcmp(back.ports, port.ports, 3) == 0);
}

static void test_port_name(void)
{
	struct usb_port port;
	CHECK("port name: usb12", sysfs_parse_port_name("usb12", 5, &port) == 0 && port.bus == 12 && port.depth == 0);
	CHECK("port name: usb0 is not one", sysfs_parse_port_name("usb0", 4, &port) < 0);
	CHECK("port name: usb is not one", sysfs_parse_port_name("usb", 3, &port) < 0);
	CHECK("port name: x12 is not one", sysfs_parse_port_name("x12", 3, &port) < 0);
	CHECK("port name: 2-1.4", sysfs_parse_port_name("2-1.4", 5, &port) == 0 && port.bus == 2 && port.depth == 2);
}

int main(void)
{
	test_node_path();
	test_comparisons();
	test_port_parse();
	test_port_scan();
	test_port_format();
	test_port_name();
	return check_status();
}
