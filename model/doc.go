// Package model is snapsim's extension API: the interfaces and registries
// a design or a system is written against (docs/extending.md).
package model
