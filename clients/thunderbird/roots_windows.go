package thunderbird

import (
	"os"
	"path/filepath"
)

// platformRoots is the folder holding profiles.ini on Windows:
// %APPDATA%\Thunderbird (home\AppData\Roaming when APPDATA is unset).
func platformRoots(home string) []string {
	appData := os.Getenv("APPDATA")
	if appData == "" {
		appData = filepath.Join(home, "AppData", "Roaming")
	}
	return []string{filepath.Join(appData, "Thunderbird")}
}
