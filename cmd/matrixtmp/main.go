package main

import (
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/snapsim/snapsim/model"
	"github.com/snapsim/snapsim/sim"
)

func main() {
	n, _ := strconv.Atoi(os.Args[1])
	for _, p := range model.ProfileNames() {
		for _, c := range model.CollectorNames() {
			cfg, _ := model.ProfileConfig(c, p)
			kinds := map[sim.Kind]int{}
			viol, errs, budget := 0, 0, 0
			for seed := 1; seed <= n; seed++ {
				out, err := model.Run(cfg, sim.NewPRNG(uint64(seed)), sim.Config{StopOnViolation: true})
				if err != nil {
					errs++
					if errs == 1 {
						fmt.Println("ERR", c, p, seed, err)
					}
					continue
				}
				if out.Result.End == sim.EndBudget {
					budget++
				}
				if out.Violated() {
					viol++
					seen := map[sim.Kind]bool{}
					for _, o := range out.Result.Observations {
						if !seen[o.Kind] {
							kinds[o.Kind]++
							seen[o.Kind] = true
						}
					}
				}
			}
			var ks []string
			for k, v := range kinds {
				ks = append(ks, fmt.Sprintf("%s=%d", k, v))
			}
			sort.Strings(ks)
			fmt.Printf("%-17s %-12s viol=%-4d err=%d budget=%d %v\n", p, c, viol, errs, budget, ks)
		}
	}
}
