/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the hostusb property's grammar (request.h: parse_property,
 * selector_text): every form of entry, the limits of each part, and where a
 * syntax error is said to be.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "request.h"
#include "check.h"

static struct error err;
static struct request req;

/* The property parses into count entries. */
static int parses(const char *text, size_t count)
{
	memset(&req, 0xa5, sizeof req);
	return parse_property(text, &req, &err) == 0 && req.count == count;
}

static int refused(const char *text)
{
	err.message[0] = '\0';
	return parse_property(text, &req, &err) < 0 && err.message[0] != '\0' && !strchr(err.message, '\n');
}

static bool port_is(const struct usb_port *port, unsigned bus, unsigned depth, const char *ports)
{
	if (port->bus != bus || port->depth != depth)
		return false;
	for (unsigned i = 0; i < depth; i++)
		if (port->ports[i] != (unsigned char)ports[i])
			return false;
	return true;
}

static void test_forms(void)
{
	const struct selector *e = req.entries;
	CHECK("form: id", parses("0x0529:0x0001", 1) && e[0].kind == SELECT_ID && e[0].has_id && !e[0].optional &&
	      e[0].id.vendor == 0x0529 && e[0].id.product == 0x0001);
	CHECK("form: id, hex of either case", parses("0xBEEF:0xcAfE", 1) && e[0].id.vendor == 0xbeef &&
	      e[0].id.product == 0xcafe);
	CHECK("form: serial", parses("0x0529:0x0001#A1B2", 1) && e[0].kind == SELECT_SERIAL && e[0].has_id &&
	      e[0].id.vendor == 0x0529 && strcmp(e[0].serial, "A1B2") == 0 && !e[0].optional);
	CHECK("form: serial of every allowed character",
	      parses("0x0529:0x0001#azAZ09._:-", 1) && strcmp(e[0].serial, "azAZ09._:-") == 0);
	CHECK("form: id and port", parses("0x0529:0x0001@1-3.1", 1) && e[0].kind == SELECT_PORT && e[0].has_id &&
	      e[0].id.product == 0x0001 && port_is(&e[0].port, 1, 2, "\3\1"));
	CHECK("form: port alone", parses("@2-4", 1) && e[0].kind == SELECT_PORT && !e[0].has_id &&
	      e[0].id.vendor == 0 && e[0].id.product == 0 && port_is(&e[0].port, 2, 1, "\4"));
	CHECK("form: optional id", parses("?0x0529:0x0001", 1) && e[0].kind == SELECT_ID && e[0].optional);
	CHECK("form: optional serial", parses("?0x0529:0x0001#K", 1) && e[0].kind == SELECT_SERIAL && e[0].optional &&
	      strcmp(e[0].serial, "K") == 0);
	CHECK("form: optional id and port", parses("?0x0529:0x0001@3-1", 1) && e[0].kind == SELECT_PORT &&
	      e[0].optional && e[0].has_id);
	CHECK("form: optional port", parses("?@3-1", 1) && e[0].kind == SELECT_PORT && e[0].optional && !e[0].has_id);
	CHECK("form: all of them in one value",
	      parses("0x0781:0x5567&0x0529:0x0001#A1B2&?0x0529:0x0001@1-3.1&@2-1&?0x0627:0x0001", 5) &&
	      e[0].kind == SELECT_ID && e[1].kind == SELECT_SERIAL && e[2].kind == SELECT_PORT && e[2].optional &&
	      e[3].kind == SELECT_PORT && !e[3].has_id && e[4].optional && e[4].kind == SELECT_ID);
	CHECK("form: fields a form does not use are empty", parses("0x0529:0x0001#A1B2&@2-1", 2) &&
	      e[0].port.bus == 0 && e[0].port.depth == 0 && e[1].serial[0] == '\0' && e[0].serial[4] == '\0');
}

/* text, with piece repeated n times in place of "%": into buf */
static const char *repeat(char *buf, size_t size, const char *text, const char *piece, size_t n)
{
	const char *mark = strchr(text, '%');
	size_t at = (size_t)(mark - text), used = 0;
	memcpy(buf, text, at);
	used = at;
	for (size_t i = 0; i < n && used + strlen(piece) < size; i++, used += strlen(piece))
		memcpy(buf + used, piece, strlen(piece));
	snprintf(buf + used, size - used, "%s", mark + 1);
	return buf;
}

static void test_limits(void)
{
	char buf[4096];
	const char *serial64 = repeat(buf, sizeof buf, "0x0529:0x0001#%", "Ab3.", 16);
	CHECK("limit: a serial of 64 characters", parses(serial64, 1) && strlen(req.entries[0].serial) == 64);
	CHECK("limit: a serial of 65 refused", refused(repeat(buf, sizeof buf, "0x0529:0x0001#%x", "Ab3.", 16)));
	CHECK("limit: an empty serial refused", refused("0x0529:0x0001#"));
	CHECK("limit: 7 port levels", parses("@1-1.2.3.4.5.6.7", 1) && req.entries[0].port.depth == 7);
	CHECK("limit: 8 port levels refused", refused("@1-1.2.3.4.5.6.7.8"));
	CHECK("limit: bus 999", parses("@999-1", 1) && req.entries[0].port.bus == 999);
	CHECK("limit: bus 1", parses("@1-1", 1) && req.entries[0].port.bus == 1);
	CHECK("limit: bus 1000 refused", refused("@1000-1"));
	CHECK("limit: bus 0 refused", refused("@0-1"));
	CHECK("limit: bus with a leading zero refused", refused("@01-1"));
	CHECK("limit: port 31", parses("@1-31.31", 1) && req.entries[0].port.ports[1] == 31);
	CHECK("limit: port 32 refused", refused("@1-32"));
	CHECK("limit: port 32 below a hub refused", refused("0x0529:0x0001@1-2.32"));
	CHECK("limit: port 0 refused", refused("@1-0"));
	CHECK("limit: port with a leading zero refused", refused("@1-2.03"));
	repeat(buf, sizeof buf, "%", "0x0529:0x0001#A1B2&?@1-1.2.3.4.5.6.7&0x0529:0x0001@999-31&?0x0627:0x0001&", 8);
	buf[strlen(buf) - 1] = '\0';
	CHECK("limit: 32 entries of every form", parses(buf, 32) && req.entries[31].optional &&
	      req.entries[30].kind == SELECT_PORT && req.entries[29].port.depth == 7);
	CHECK("limit: 32 entries", parses(repeat(buf, sizeof buf, "%@1-1", "?0x0529:0x0001#S&", 31), 32));
	CHECK("limit: 33 entries refused, said so",
	      refused(repeat(buf, sizeof buf, "%@1-1", "?0x0529:0x0001#S&", 32)) &&
	      strcmp(err.message, "hostusb property has 33 entries; at most 32 are allowed") == 0);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"", "?", "??0x0529:0x0001", "?&0x0529:0x0001", "0x0529:0x0001&?", "0x0529:0x0001?", "?@", "@",
		"#A", "0x0529:0x0001#", "0x0529:0x0001#A#B", "0x0529:0x0001#A@1-1", "0x0529:0x0001@1-1#A",
		"0x0529:0x0001@1-1@1-1", "0x0529:0x0001#A B", "0x0529:0x0001#A/B", "0x0529:0x0001#A,B",
		"0x0529:0x0001@1", "0x0529:0x0001@1-", "0x0529:0x0001@1-3.", "0x0529:0x0001@-1", "0x0529:0x0001@1.3",
		"0x0529:0x0001@usb1", "0x0529:0x0001@1-3:1.0", "0X0529:0x0001#A", "0x0529:0X0001@1-1", "@1-1&",
		"0x0529:0x0001 ", "0x0529:0x0001@1-1 ", "0x0529:0x0001#A\n", "0x052:0x0001#A", "?0x0529",
		"0x0529:0x0001&&@1-1", "@1-1:0x0529:0x0001", "0x0529:0x0001@1-3.1.", "0x0529:0x0001@1_3",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char name[96];
		snprintf(name, sizeof name, "refused: case %zu (%.*s)", i, (int)strcspn(bad[i], "\n"), bad[i]);
		CHECK(name, refused(bad[i]));
	}
}

#define ID_FORM "expected 0xVVVV:0xPPPP with a lowercase x and 4 hex digits each"
#define ENTRY_FORMS "expected 0xVVVV:0xPPPP, 0xVVVV:0xPPPP#SERIAL, 0xVVVV:0xPPPP@PORT or @PORT"
#define SERIAL_CHARS "expected a serial number of 1 to 64 characters [A-Za-z0-9._:-]"
#define PORT_FORM "expected a port BUS-PORT[.PORT]... (bus 1 to 999, 1 to 7 ports of 1 to 31, no leading zeros)"

static void test_positions(void)
{
	static const struct {
		const char *name, *value, *message;
	} cases[] = {
		{ "position: an empty serial, at the end", "0x0781:0x5567&0x0529:0x0001#",
		  "entry 2 \"0x0529:0x0001#\": " SERIAL_CHARS "; found the end of the value at character 29" },
		{ "position: an empty serial, before the next entry", "0x0529:0x0001#&@1-1",
		  "entry 1 \"0x0529:0x0001#\": " SERIAL_CHARS "; found \"&\" at character 15" },
		{ "position: a serial with a bad character", "?0x0529:0x0001#AB/C",
		  "entry 1 \"?0x0529:0x0001#AB/C\": " SERIAL_CHARS "; found \"/\" at character 18" },
		{ "position: an uppercase X", "0x0781:0x5567&0X0627:0x0001",
		  "entry 2 \"0X0627:0x0001\": " ID_FORM "; found \"X\" at character 16" },
		{ "position: a short id", "0x0781:0x556&0x0627:0x0001",
		  "entry 1 \"0x0781:0x556\": " ID_FORM "; found \"&\" at character 13" },
		{ "position: a comma between entries", "0x0781:0x5567,0x0627:0x0001",
		  "entry 1 \"0x0781:0x5567,0x0627:0x0001\": expected #SERIAL, @PORT, or & before the next entry; "
		  "found \",\" at character 14" },
		{ "position: an empty entry", "@1-1&&@1-2", "entry 2 \"\": " ENTRY_FORMS "; found \"&\" at character 6" },
		{ "position: ??", "??0x0529:0x0001",
		  "entry 1 \"??0x0529:0x0001\": " ENTRY_FORMS "; found \"?\" at character 2" },
		{ "position: ?&", "@1-1&?&@1-2", "entry 2 \"?\": " ENTRY_FORMS "; found \"&\" at character 7" },
		{ "position: port 32", "@1-3&0x0529:0x0001@1-32",
		  "entry 2 \"0x0529:0x0001@1-32\": " PORT_FORM "; found \"2\" at character 23" },
		{ "position: bus 1000", "@1000-1", "entry 1 \"@1000-1\": " PORT_FORM "; found \"0\" at character 5" },
		{ "position: bus 0", "@0-1", "entry 1 \"@0-1\": " PORT_FORM "; found \"0\" at character 2" },
		{ "position: an 8th level", "@1-1.2.3.4.5.6.7.8",
		  "entry 1 \"@1-1.2.3.4.5.6.7.8\": " PORT_FORM "; found \".\" at character 17" },
		{ "position: a port cut short", "?@1-3.",
		  "entry 1 \"?@1-3.\": " PORT_FORM "; found the end of the value at character 7" },
		{ "position: a control byte, never echoed", "0x0529:0x0001#A\033[2J",
		  "entry 1 \"0x0529:0x0001#A?[2J\": " SERIAL_CHARS "; found byte 0x1b at character 16" },
		{ "position: a byte above 0x7f", "\xc3\xa9",
		  "entry 1 \"??\": " ENTRY_FORMS "; found byte 0xc3 at character 1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err.message[0] = '\0';
		parse_property(cases[i].value, &req, &err);
		char want[512];
		snprintf(want, sizeof want, "hostusb property, %s", cases[i].message);
		CHECK_STR(cases[i].name, err.message, want);
	}
	char long_serial[128];
	memset(long_serial, 'Z', sizeof long_serial);
	memcpy(long_serial, "@1-1&0x0529:0x0001#", 19);
	long_serial[19 + 65] = '\0';
	err.message[0] = '\0';
	parse_property(long_serial, &req, &err);
	CHECK("position: the 65th character of a serial", strstr(err.message, "found \"Z\" at character 84") &&
	      strstr(err.message, "entry 2 \"0x0529:0x0001#ZZZZ"));
}

static void test_serial_valid(void)
{
	char longest[SERIAL_MAX + 2];
	memset(longest, '7', sizeof longest);
	CHECK("serial valid: every allowed character", serial_valid("azAZ09._:-", 10));
	CHECK("serial valid: 64 characters", serial_valid(longest, SERIAL_MAX));
	CHECK("serial valid: not 65", !serial_valid(longest, SERIAL_MAX + 1));
	CHECK("serial valid: not empty", !serial_valid("", 0));
	CHECK("serial valid: not a space, slash, NUL, &, # or @", !serial_valid("A B", 3) && !serial_valid("A/B", 3) &&
	      !serial_valid("A\0B", 3) && !serial_valid("A&B", 3) && !serial_valid("A#B", 3) && !serial_valid("A@", 2));
	CHECK("serial valid: only len bytes are read", serial_valid("AB/", 2));
}

static void round_trip(const char *name, const char *text, const char *want)
{
	char buf[SELECTOR_TEXT_SIZE] = "";
	if (parses(text, 1))
		selector_text(&req.entries[0], buf, sizeof buf);
	CHECK_STR(name, buf, want);
}

static void test_selector_text(void)
{
	round_trip("selector text: id", "0x0529:0x0001", "0x0529:0x0001");
	round_trip("selector text: ids in lowercase", "?0xBEEF:0xCAFE", "?0xbeef:0xcafe");
	round_trip("selector text: serial", "?0x0529:0x0001#A1B2", "?0x0529:0x0001#A1B2");
	round_trip("selector text: id and port", "0x0529:0x0001@1-3.1", "0x0529:0x0001@1-3.1");
	round_trip("selector text: port", "@999-31.1.2.3.4.5.6", "@999-31.1.2.3.4.5.6");
	char longest[128];
	memset(longest, '-', sizeof longest);
	memcpy(longest, "?0x0529:0x0001#", 15);
	longest[15 + SERIAL_MAX] = '\0';
	round_trip("selector text: the longest fits SELECTOR_TEXT_SIZE", longest, longest);
}

int main(void)
{
	test_forms();
	test_limits();
	test_refused();
	test_positions();
	test_selector_text();
	test_serial_valid();
	return check_status();
}
