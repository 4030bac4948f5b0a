//go:build !race

package vfsmem_test

const raceEnabled = false
