package prefs

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/endymail/endymail/clients"
)

func TestParseSyntaxVectors(t *testing.T) {
	src, err := os.ReadFile("testdata/syntax.js")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(src)
	if err != nil {
		t.Fatalf("ParsePrefs: %v", err)
	}
	want := map[string]Value{
		"a.default": StringValue("x"),
		"b.sticky":  BoolValue(true),
		"c.locked":  IntValue(-2147483648),
		"d.single":  StringValue(`it's "dq"`),
		"e.escapes": StringValue("q\"s'b\\n\n\rAé\U0001F600"),
		"f.plus":    IntValue(7),
		"g.false":   BoolValue(false),
		"h.spaced":  StringValue("tab"),
		"i.cr":      IntValue(1),
		"j.crlf":    StringValue("two\r\nlines"),
	}
	if got := len(p.All()); got != len(want) {
		t.Errorf("got %d prefs, want %d", got, len(want))
	}
	for name, w := range want {
		if got, ok := p.Get(name); !ok || got != w {
			t.Errorf("%s: got %#v (found %v), want %#v", name, got, ok, w)
		}
	}
	kinds := map[string]string{"a.default": "pref", "b.sticky": "sticky_pref", "c.locked": "lockPref", "d.single": "user_pref"}
	for _, pr := range p.All() {
		if k, ok := kinds[pr.Name]; ok && pr.Kind != k {
			t.Errorf("%s: got kind %s, want %s", pr.Name, pr.Kind, k)
		}
	}
	if raw, _ := p.Raw("c.locked"); raw != "-2147483648" {
		t.Errorf("Raw(c.locked): got %q, want -2147483648", raw)
	}
}

func TestParseThunderbirdPrefs(t *testing.T) {
	src, err := os.ReadFile("testdata/prefs.js")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(src)
	if err != nil {
		t.Fatalf("ParsePrefs: %v", err)
	}
	if v, _ := p.Get("mail.identity.id1.fullName"); v != StringValue(`Alice Exämple "Q"`) {
		t.Errorf("fullName: got %#v", v)
	}
	if got := p.Edit(nil); string(got) != string(src) {
		t.Errorf("Edit(nil) changed the file")
	}
}

func TestEditKeepsEverythingElse(t *testing.T) {
	src := "// head\nuser_pref(\"a\", 1); // keep me\nuser_pref(\"b\", \"x\");\r\nuser_pref(\"c\", true);\n"
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	got := string(p.Edit([]Change{
		{Name: "a", Literal: "2"},
		{Name: "b", Delete: true},
		{Name: "n", Literal: StringValue("new \"v\"\n").Literal()},
	}))
	want := "// head\nuser_pref(\"a\", 2); // keep me\nuser_pref(\"c\", true);\nuser_pref(\"n\", \"new \\\"v\\\"\\n\");\n"
	if got != want {
		t.Errorf("Edit:\ngot  %q\nwant %q", got, want)
	}
	// Undo: restore a, re-add b where it was not (appended), delete n.
	p2, err := Parse([]byte(got))
	if err != nil {
		t.Fatal(err)
	}
	back := string(p2.Edit([]Change{{Name: "a", Literal: "1"}, {Name: "n", Delete: true}}))
	if want := "// head\nuser_pref(\"a\", 1); // keep me\nuser_pref(\"c\", true);\n"; back != want {
		t.Errorf("undo:\ngot  %q\nwant %q", back, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		`user_pref("a", ;`,
		`user_pref("a", 1)`,
		`user_pref("a" 1);`,
		`user_pref("a", 1, locked);`,
		`pref("a", 1, frozen);`,
		`user_pref("a", 2147483648);`,
		`user_pref("a", -2147483649);`,
		`user_pref("a", 12ab);`,
		`user_pref("a", "\x00");`,
		`user_pref("a", "\u0000");`,
		`user_pref("a", "\ud800");`,
		`user_pref("a", "\udc00");`,
		`user_pref("a", "\ud800\u0041");`,
		`user_pref("a", "\q");`,
		`user_pref("a", "unterminated);`,
		`/* unterminated`,
		`/ nothing`,
		`user_pref("a", 1); garbage`,
		`user_pref(1, 1);`,
		"user_pref(\"a\", \"nul\x00\");",
		`user_pref("a", -true);`,
	} {
		_, err := Parse([]byte("user_pref(\"ok\", 1);\n" + src))
		if !errors.Is(err, clients.ErrCorrupt) {
			t.Errorf("Parse(%q): got error %v, want ErrCorrupt", src, err)
		} else if !strings.Contains(err.Error(), "line 2") {
			t.Errorf("Parse(%q): error %q does not name line 2", src, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/prefs.js", "testdata/syntax.js"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`user_pref("a", "\ud83d\ude00");`))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src)
		if err != nil {
			if !errors.Is(err, clients.ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if string(p.Edit(nil)) != string(src) {
			t.Fatal("Edit(nil) changed the file")
		}
		var changes []Change
		for _, pr := range p.All() {
			changes = append(changes, Change{Name: pr.Name, Literal: StringValue("v\"\\\n" + pr.Name).Literal()})
		}
		changes = append(changes, Change{Name: "fuzz.new", Literal: "42"})
		edited, err := Parse(p.Edit(changes))
		if err != nil {
			t.Fatalf("edited file does not parse: %v", err)
		}
		for _, pr := range p.All() {
			if v, _ := edited.Get(pr.Name); v != StringValue("v\"\\\n"+pr.Name) {
				t.Fatalf("%q: got %#v after Edit", pr.Name, v)
			}
		}
		if v, _ := edited.Get("fuzz.new"); v != IntValue(42) {
			t.Fatalf("fuzz.new: got %#v, want 42", v)
		}
	})
}
