/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for xmltok.c driven from outside the patcher, as a reader of
 * elements and their attributes drives it: the events, attributes and their
 * references, the depth reported, and the same checks with attributes
 * reported or not.  Each document is read whole and one byte at a time.
 */
#include "check.h"
#include "xmlio.h"
#include "xmltok.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * The events as text: " <nameD" a START at depth D, " a=value" an attribute
 * (its pieces joined, "{&e;}" one unresolved), " />name" or " </name" an
 * END; TEXT and MARKUP are left out.
 */
struct log {
	struct tok *tok;
	char s[4096];
	size_t len;
	bool in_value;
};

static void add(struct log *l, const void *s, size_t n)
{
	if (n > sizeof l->s - 1 - l->len)
		n = sizeof l->s - 1 - l->len;
	memcpy(l->s + l->len, s, n);
	l->len += n;
	l->s[l->len] = '\0';
}

static void add_str(struct log *l, const char *s)
{
	add(l, s, strlen(s));
}

static int record(void *sink, const struct tok_event *ev)
{
	struct log *l = sink;
	char depth[8];
	switch (ev->kind) {
	case TOK_START:
		snprintf(depth, sizeof depth, "%zu", ev->depth);
		add_str(l, " <");
		add(l, ev->name, ev->name_len);
		add_str(l, depth);
		break;
	case TOK_ATTR:
		if (!l->in_value) {
			add_str(l, " ");
			add(l, ev->name, ev->name_len);
			add_str(l, "=");
		}
		if (ev->unresolved) {
			add_str(l, "{&");
			add(l, ev->text, ev->text_len);
			add_str(l, ";}");
		} else {
			add(l, ev->text, ev->text_len);
		}
		l->in_value = ev->more;
		break;
	case TOK_END:
		add_str(l, ev->empty ? " />" : " </");
		add(l, ev->name, ev->name_len);
		break;
	default:
		break;
	}
	return 0;
}

static unsigned one_byte_reads;

static ssize_t one_byte(int fd, void *buf, size_t count)
{
	one_byte_reads++;
	return read(fd, buf, count ? 1 : 0);
}

/*
 * Tokenizes doc, reporting down to depth, END down to end_depth (attributes
 * when attrs): 0 or -1, the events in l, the error in err.
 */
static int tokenize(const char *doc, size_t depth, size_t end_depth, bool attrs, bool bytewise, struct log *l,
		    struct xmlpatch_error *err)
{
	int fd = memfd_create("doc", 0);
	if (fd < 0 || write(fd, doc, strlen(doc)) != (ssize_t)strlen(doc) || lseek(fd, 0, SEEK_SET) != 0) {
		perror("memfd");
		exit(2);
	}
	static unsigned char window[IO_WINDOW];
	static char stage[STAGE];
	struct io io;
	memset(l, 0, sizeof *l);
	memset(err, 0, sizeof *err);
	io_init(&io, fd, -1, bytewise ? one_byte : NULL, err, window, CHUNK, stage, sizeof stage);
	l->tok = tok_new(&io, record, l, depth);
	if (!l->tok) {
		perror("tok_new");
		exit(2);
	}
	tok_report_attributes(l->tok, attrs);
	if (end_depth != depth)
		tok_set_depths(l->tok, depth, end_depth);
	int rc = 0;
	for (;;) {
		if ((rc = tok_read(l->tok)) < 0)
			break;
		if (io.bad != NONE) {
			rc = io_fail_invalid_byte(&io, tok_after_root(l->tok));
			break;
		}
		/* nothing is written: the output is not looked at */
		io.written = io.abs + io.len;
		ssize_t got = io_refill(&io, NO_OFFSET);
		if (got <= 0) {
			rc = got < 0 ? -1 : io_check_utf8_end(&io) < 0 ? -1 : tok_finish(l->tok);
			break;
		}
		io_validate(&io);
	}
	tok_free(l->tok);
	close(fd);
	return rc;
}

/* The events of doc, read whole and byte by byte, which must be the same; END down to end_depth. */
static void check_events_ends(const char *name, const char *doc, size_t depth, size_t end_depth, bool attrs,
			      const char *want)
{
	struct log whole, bytes;
	struct xmlpatch_error e1, e2;
	int r1 = tokenize(doc, depth, end_depth, attrs, false, &whole, &e1);
	int r2 = tokenize(doc, depth, end_depth, attrs, true, &bytes, &e2);
	char label[160];
	snprintf(label, sizeof label, "xmltok %s: accepted", name);
	CHECK(label, r1 == 0 && r2 == 0);
	snprintf(label, sizeof label, "xmltok %s: events", name);
	CHECK_STR(label, whole.s, want);
	snprintf(label, sizeof label, "xmltok %s: events byte by byte", name);
	CHECK_STR(label, bytes.s, want);
}

static void check_events(const char *name, const char *doc, size_t depth, bool attrs, const char *want)
{
	check_events_ends(name, doc, depth, depth, attrs, want);
}

static const char hostdevs[] =
	"<?xml version='1.0'?>\n"
	"<domain type='kvm' id=\"7\">\n"
	"  <name>vm</name>\n"
	"  <devices>\n"
	"    <hostdev mode='subsystem' type='usb' managed='no'>\n"
	"      <source startupPolicy=\"optional\">\n"
	"        <vendor id='0x1234'/>\n"
	"        <product id=\"0x&#x61;b&amp;&#233;\"/>\n"
	"        <address bus='1' device='2'/>\n"
	"      </source>\n"
	"      <alias name='ua-&lt;&gt;&apos;&quot;'/>\n"
	"    </hostdev>\n"
	"    <disk device='disk'><driver name='qemu'/></disk>\n"
	"  </devices>\n"
	"</domain>\n";

static void check_attributes(void)
{
	check_events("hostdev attributes", hostdevs, 5, true,
		     " <domain1 type=kvm id=7 <name2 </name <devices2 <hostdev3 mode=subsystem type=usb managed=no"
		     " <source4 startupPolicy=optional <vendor5 id=0x1234 />vendor <product5 id=0xab&\xc3\xa9 />product"
		     " <address5 bus=1 device=2 />address </source <alias4 name=ua-<>'\" />alias </hostdev"
		     " <disk3 device=disk <driver4 name=qemu />driver </disk </devices </domain");
	/* deeper than reported: neither the elements nor their attributes */
	check_events("depth 3", hostdevs, 3, true,
		     " <domain1 type=kvm id=7 <name2 </name <devices2 <hostdev3 mode=subsystem type=usb managed=no"
		     " </hostdev <disk3 device=disk </disk </devices </domain");
	/* END one level less deep: not of the deepest elements, read by the states or plain */
	check_events_ends("ends one level less deep", hostdevs, 3, 2, true,
			  " <domain1 type=kvm id=7 <name2 </name <devices2 <hostdev3 mode=subsystem type=usb managed=no"
			  " <disk3 device=disk </devices </domain");
	check_events_ends("ends of plain tags one level less deep", hostdevs, 3, 2, false,
			  " <domain1 <name2 </name <devices2 <hostdev3 <disk3 </devices </domain");
	check_events("attributes off", hostdevs, 5, false,
		     " <domain1 <name2 </name <devices2 <hostdev3 <source4 <vendor5 />vendor <product5 />product"
		     " <address5 />address </source <alias4 />alias </hostdev <disk3 <driver4 />driver </disk"
		     " </devices </domain");
	check_events("declared entity", "<!DOCTYPE domain [<!ENTITY e \"x\">]><domain a=\"1&e;2\" b=''/>", 1, true,
		     " <domain1 a=1{&e;}2 b= />domain");
	/* names across the tokenizer's 16-byte blocks, one ':' in them, keys alike but names not */
	check_events("long and prefixed names", "<domain xmlns:p='u'><abcdefghijklmnop abcdefghijklmnopq='1'"
		     " p:abcdefghijklmnopqrstuvwxyz012345=\"2\" a:='3' axb='4' ayb='5'><p:x_y.z-0/>"
		     "<a:-></a:-></abcdefghijklmnop><abcdefghijklmnopqrstuvwxyz0123456></abcdefghijklmnopqrstuvwxyz0123456>"
		     "</domain>", 3, false,
		     " <domain1 <abcdefghijklmnop2 <p:x_y.z-03 />p:x_y.z-0 <a:-3 </a:- </abcdefghijklmnop"
		     " <abcdefghijklmnopqrstuvwxyz01234562 </abcdefghijklmnopqrstuvwxyz0123456 </domain");
	/* more attributes than a plain tag takes: read by the states */
	check_events("16 and 20 attributes",
		     "<domain><a a1='' a2='' a3='' a4='' a5='' a6='' a7='' a8='' a9='' b1='' b2='' b3='' b4='' b5=''"
		     " b6='' b7=''/><a a1='' a2='' a3='' a4='' a5='' a6='' a7='' a8='' a9='' b1='' b2='' b3='' b4=''"
		     " b5='' b6='' b7='' b8='' b9='' c1='' c2=''/></domain>", 2, false,
		     " <domain1 <a2 />a <a2 />a </domain");
	check_events("values of every length", "<domain><a v='' w=\"x\" x='\txy z\n'></a></domain>", 2, true,
		     " <domain1 <a2 v= w=x x=\txy z\n </a </domain");
}

/* With attributes reported or not, the same error at the same place. */
static void check_same_error(const char *name, const char *doc)
{
	struct log l;
	struct xmlpatch_error off, on;
	int r_off = tokenize(doc, 8, 8, false, false, &l, &off);
	int r_on = tokenize(doc, 8, 8, true, true, &l, &on);
	char label[160];
	snprintf(label, sizeof label, "xmltok refused either way: %s", name);
	CHECK(label, r_off < 0 && r_on < 0);
	snprintf(label, sizeof label, "xmltok same error either way: %s", name);
	CHECK_STR(label, on.message, off.message);
}

static void check_errors(void)
{
	check_same_error("duplicate attribute", "<domain><a x='1' y='2' x='3'/></domain>");
	check_same_error("'<' in a value", "<domain><a x='<'/></domain>");
	check_same_error("undefined entity", "<domain><a x='&nope;'/></domain>");
	check_same_error("character reference to U+0", "<domain><a x='&#0;'/></domain>");
	check_same_error("no quote", "<domain><a x=1/></domain>");
	check_same_error("no whitespace between attributes", "<domain><a x='1'y='2'/></domain>");
	check_same_error("qualified name", "<domain><a a:b:-='1'/></domain>");
	check_same_error("qualified element name", "<domain><a:b:-/></domain>");
	check_same_error("duplicate among 16 attributes",
			 "<domain><a a1='' a2='' a3='' a4='' a5='' a6='' a7='' a8='' a9='' b1='' b2='' b3='' b4='' b5=''"
			 " b6='' a2=''/></domain>");
	check_same_error("duplicate among 20 attributes",
			 "<domain><a a1='' a2='' a3='' a4='' a5='' a6='' a7='' a8='' a9='' b1='' b2='' b3='' b4='' b5=''"
			 " b6='' b7='' b8='' b9='' c1='' a7=''/></domain>");
	check_same_error("duplicate prefixed attribute", "<domain><a p:x='1' q='2' p:x='3'/></domain>");
	check_same_error("duplicate long attribute",
			 "<domain><a abcdefghijklmnopq='1' abcdefghijklmnopq='2'/></domain>");
	check_same_error("end tag differing after 16 bytes",
			 "<domain><abcdefghijklmnopq></abcdefghijklmnopr></domain>");
	check_same_error("end tag longer", "<domain><abcdefghijklmnop></abcdefghijklmnopq></domain>");
}

int main(void)
{
	check_attributes();
	check_errors();
	CHECK("xmltok byte by byte read one byte a call", one_byte_reads > 1000);
	return check_status();
}
