package thunderbird

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/endymail/endymail/clients"
)

// Profile is one Thunderbird profile listed in a profiles.ini.
type Profile struct {
	Name    string
	Dir     string // absolute path of the profile folder
	Default bool   // the profile Thunderbird opens without -P
}

// iniFile is a parsed Mozilla INI file: sections in order, keys per section.
type iniFile struct {
	order    []string
	sections map[string]map[string]string
}

// parseINI reads the INI dialect of Mozilla's nsINIParser: [Section] lines,
// key=value lines, comments starting with ; or #, blank lines. Its errors
// wrap [clients.ErrCorrupt].
func parseINI(name string, src []byte) (*iniFile, error) {
	f := &iniFile{sections: map[string]map[string]string{}}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	cur := ""
	for n, line := range strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == ';' || line[0] == '#':
		case line[0] == '[':
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s line %d: unterminated section name: %w", name, n+1, clients.ErrCorrupt)
			}
			cur = line[1:end]
			if _, ok := f.sections[cur]; !ok {
				f.sections[cur] = map[string]string{}
				f.order = append(f.order, cur)
			}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || cur == "" {
				return nil, fmt.Errorf("%s line %d: expected key=value inside a section: %w", name, n+1, clients.ErrCorrupt)
			}
			f.sections[cur][strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return f, nil
}

// ReadProfiles lists the profiles of one Thunderbird root folder (the one
// holding profiles.ini). The default is, in order of preference: the path
// an [Install…] section names as Default (in profiles.ini or installs.ini),
// the profile marked Default=1, the only profile. A missing profiles.ini
// means no profiles.
func ReadProfiles(root string) ([]Profile, error) {
	src, err := os.ReadFile(filepath.Join(root, "profiles.ini"))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	ini, err := parseINI(filepath.Join(root, "profiles.ini"), src)
	if err != nil {
		return nil, err
	}
	installDefaults := installDefaults(ini)
	if src, err := os.ReadFile(filepath.Join(root, "installs.ini")); err == nil {
		if inst, err := parseINI(filepath.Join(root, "installs.ini"), src); err == nil {
			installDefaults = append(installDefaults, installDefaults2(inst)...)
		}
	}
	return profilesFromINI(root, ini, installDefaults), nil
}

func installDefaults(ini *iniFile) []string {
	var out []string
	for _, s := range ini.order {
		if strings.HasPrefix(s, "Install") && ini.sections[s]["Default"] != "" {
			out = append(out, ini.sections[s]["Default"])
		}
	}
	return out
}

// installDefaults2 reads installs.ini, whose sections are the install hashes
// themselves (no "Install" prefix).
func installDefaults2(ini *iniFile) []string {
	var out []string
	for _, s := range ini.order {
		if d := ini.sections[s]["Default"]; d != "" {
			out = append(out, d)
		}
	}
	return out
}

func profilesFromINI(root string, ini *iniFile, installDefaults []string) []Profile {
	var ps []Profile
	marked := -1
	byPath := map[string]int{}
	for _, s := range ini.order {
		sec := ini.sections[s]
		if !strings.HasPrefix(s, "Profile") || sec["Path"] == "" {
			continue
		}
		dir := profileDir(root, sec["Path"], sec["IsRelative"] == "1")
		if sec["Default"] == "1" && marked < 0 {
			marked = len(ps)
		}
		byPath[sec["Path"]] = len(ps)
		byPath[dir] = len(ps)
		ps = append(ps, Profile{Name: sec["Name"], Dir: dir})
	}
	def := -1
	for _, d := range installDefaults {
		if i, ok := byPath[d]; ok {
			def = i
			break
		}
		if i, ok := byPath[profileDir(root, d, !filepath.IsAbs(d))]; ok {
			def = i
			break
		}
	}
	switch {
	case def >= 0:
	case marked >= 0:
		def = marked
	case len(ps) == 1:
		def = 0
	}
	if def >= 0 {
		ps[def].Default = true
	}
	sort.SliceStable(ps, func(a, b int) bool { return ps[a].Default && !ps[b].Default })
	return ps
}

// profileDir resolves a Path= value; relative paths use '/' on every
// platform.
func profileDir(root, path string, relative bool) string {
	if relative {
		return filepath.Join(root, filepath.FromSlash(path))
	}
	return filepath.Clean(path)
}

// DiscoverProfiles lists the profiles of every root, skipping roots without
// a profiles.ini. The first error of an unreadable profiles.ini is returned
// with the profiles found elsewhere.
func DiscoverProfiles(roots []string) ([]Profile, error) {
	var all []Profile
	var firstErr error
	seen := map[string]bool{}
	for _, r := range roots {
		ps, err := ReadProfiles(r)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, p := range ps {
			if !seen[p.Dir] {
				seen[p.Dir] = true
				all = append(all, p)
			}
		}
	}
	return all, firstErr
}
