// Hand-written vectors for the prefs parser: every construct that
// modules/libpref/parser/src/lib.rs accepts (default-file attributes, both
// quotes, all escapes incl. \u surrogate pairs and \x bytes, signed ints, all
// comment forms, CR and CRLF line ends). Expected values are in prefs_test.go.
# a Python-style comment
pref("a.default", "x", sticky, locked);
sticky_pref("b.sticky", true);
lockPref("c.locked", -2147483648);
user_pref('d.single', 'it\'s "dq"');
user_pref("e.escapes", "q\"s\x27b\\n\n\r\x41\u00e9\ud83d\ude00");
/* a C comment
over two lines */ user_pref("f.plus", +7);
user_pref("g.false",false);// trailing
user_pref(   "h.spaced" ,	"tab"	)	;
user_pref("i.cr", 1);user_pref("j.crlf", "two
lines");
