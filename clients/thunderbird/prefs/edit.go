package prefs

import (
	"bytes"
	"sort"
)

// Change sets one user pref to a literal (see [Value.Literal]), or
// removes it when Delete is true.
type Change struct {
	Name    string
	Literal string
	Delete  bool
}

// Edit returns the file with the changes made and every other byte kept.
// A pref that exists has its value literal replaced in place (in its last
// statement, the one that wins); a new pref is appended as a user_pref line;
// a removed pref loses its statement and the line end after it. Changes that
// would not alter the file are skipped, so editing to the same values returns
// identical bytes.
func (f *File) Edit(changes []Change) []byte {
	type splice struct {
		start, end int
		text       string
	}
	var splices []splice
	var appended bytes.Buffer
	for _, c := range changes {
		i, exists := f.last[c.Name]
		switch {
		case c.Delete && exists:
			start, end := f.prefs[i].Start, f.prefs[i].End
			end = lineEndAfter(f.src, end)
			splices = append(splices, splice{start, end, ""})
		case c.Delete:
		case exists:
			pr := f.prefs[i]
			splices = append(splices, splice{pr.ValStart, pr.ValEnd, c.Literal})
		default:
			appended.WriteString("user_pref(" + StringValue(c.Name).Literal() + ", " + c.Literal + ");\n")
		}
	}
	sort.Slice(splices, func(a, b int) bool { return splices[a].start < splices[b].start })
	var out bytes.Buffer
	pos := 0
	for _, s := range splices {
		if s.start < pos { // two changes to one pref: the first wins
			continue
		}
		out.Write(f.src[pos:s.start])
		out.WriteString(s.text)
		pos = s.end
	}
	out.Write(f.src[pos:])
	if appended.Len() > 0 {
		if out.Len() > 0 && !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
			out.WriteByte('\n')
		}
		out.Write(appended.Bytes())
	}
	return out.Bytes()
}

// lineEndAfter extends end over blanks and one line end that follow it, so a
// removed statement takes its line with it.
func lineEndAfter(src []byte, end int) int {
	i := end
	for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
		i++
	}
	switch {
	case bytes.HasPrefix(src[i:], []byte("\r\n")):
		return i + 2
	case i < len(src) && (src[i] == '\n' || src[i] == '\r'):
		return i + 1
	}
	return end
}
