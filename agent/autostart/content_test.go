package autostart

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestSystemdCommandQuoting(t *testing.T) {
	got := systemdCommand("/opt/my apps/endymail", []string{"agent", "--home", `/h/100%$x"y\z`})
	want := `"/opt/my apps/endymail" "agent" "--home" "/h/100%%$$x\"y\\z"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestDesktopCommandQuoting(t *testing.T) {
	got := desktopCommand("/opt/my apps/endymail", []string{"agent", "100%$`\"\\"})
	// Inner escaping: \$ \` \" \\ ; then % doubled; then the string
	// escaping doubles every backslash.
	want := `"/opt/my apps/endymail" "agent" "100%%\\$\\` + "`" + `\\"\\\\"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestLaunchdPlistIsXMLWithArguments(t *testing.T) {
	p := launchdPlist("/Applications/A & B/endymail", []string{"agent"}, "/Users/u/Library/Logs/x.log")
	var v struct {
		Dict struct {
			Keys    []string `xml:"key"`
			Strings []string `xml:"string"`
			Array   struct {
				Strings []string `xml:"string"`
			} `xml:"array"`
		} `xml:"dict"`
	}
	if err := xml.Unmarshal(p, &v); err != nil {
		t.Fatalf("plist is not XML: %v\n%s", err, p)
	}
	if got := strings.Join(v.Dict.Array.Strings, "|"); got != "/Applications/A & B/endymail|agent" {
		t.Errorf("ProgramArguments: got %q", got)
	}
	if !strings.Contains(string(p), Marker) || v.Dict.Strings[0] != launchdLabel {
		t.Errorf("plist lacks the marker or label:\n%s", p)
	}
}
