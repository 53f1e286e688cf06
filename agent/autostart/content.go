package autostart

import (
	"encoding/xml"
	"strings"
)

// systemdCommand quotes a command line for ExecStart= (systemd.service
// "Command lines"): each word in double quotes, with \ and " escaped and
// the specifier % and variable $ doubled.
func systemdCommand(exe string, args []string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "%", "%%", "$", "$$")
	words := make([]string, 0, 1+len(args))
	for _, w := range append([]string{exe}, args...) {
		words = append(words, `"`+r.Replace(w)+`"`)
	}
	return strings.Join(words, " ")
}

// desktopCommand quotes a command line for Exec= (Desktop Entry
// Specification, "The Exec key"): each word in double quotes with ", `, $
// and \ backslash-escaped; % doubled for the field codes; and the value's
// own backslash escaping applied on top.
func desktopCommand(exe string, args []string) string {
	inner := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "`", "\\`", "$", `\$`)
	words := make([]string, 0, 1+len(args))
	for _, w := range append([]string{exe}, args...) {
		words = append(words, `"`+inner.Replace(w)+`"`)
	}
	s := strings.ReplaceAll(strings.Join(words, " "), "%", "%%")
	return strings.ReplaceAll(s, `\`, `\\`)
}

// launchdLabel is the LaunchAgent's label and file name.
const launchdLabel = "org.endymail.agent"

// launchdPlist is the LaunchAgent that runs the agent at login and
// restarts it if it fails.
func launchdPlist(exe string, args []string, logPath string) []byte {
	var b strings.Builder
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString("<!-- " + Marker + " -->\n")
	b.WriteString("<plist version=\"1.0\">\n<dict>\n")
	b.WriteString("\t<key>Label</key>\n\t<string>" + launchdLabel + "</string>\n")
	b.WriteString("\t<key>ProgramArguments</key>\n\t<array>\n")
	for _, w := range append([]string{exe}, args...) {
		b.WriteString("\t\t<string>" + xmlEscape(w) + "</string>\n")
	}
	b.WriteString("\t</array>\n\t<key>RunAtLoad</key>\n\t<true/>\n")
	b.WriteString("\t<key>KeepAlive</key>\n\t<dict>\n\t\t<key>SuccessfulExit</key>\n\t\t<false/>\n\t</dict>\n")
	b.WriteString("\t<key>ProcessType</key>\n\t<string>Background</string>\n")
	b.WriteString("\t<key>StandardErrorPath</key>\n\t<string>" + xmlEscape(logPath) + "</string>\n")
	b.WriteString("</dict>\n</plist>\n")
	return []byte(b.String())
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
