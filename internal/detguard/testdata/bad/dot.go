package bad

import . "time"

// Nap sleeps through a dot import.
func Nap() {
	Sleep(Millisecond) // want wall-clock
}
