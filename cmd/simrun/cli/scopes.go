package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/snapsim/snapsim/seeds"
	"github.com/spf13/cobra"
)

func newScopesCmd() *cobra.Command {
	var verbose bool
	cmd := &cobra.Command{
		Use:   "scopes",
		Short: "List the scopes simrun check explores (small named configurations and their default bounds)",
		Long: `List the built-in scopes of simrun check: name, default bounds and what
each stages. A scope is a small configuration (seeds/scopes/*.scope; the
format is in seeds/README.md, "Scope files"); simrun check --scope FILE.scope
explores one of your own. -v adds each scope's settings.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "SCOPE\tBOUNDS\tSTAGES")
			for _, s := range seeds.Scopes() {
				b := s.Bounds
				unit := "delays"
				if b.Preemptions {
					unit = "preemptions"
				}
				fmt.Fprintf(tw, "%s\t%s %d, faults %d, width %d, max-steps %d\t%s\n", s.Name, unit, b.Delays, b.Faults, b.Width, b.MaxSteps, s.Summary)
				if verbose {
					fmt.Fprintf(tw, "\t\t%s\n", s.Describe())
					var kinds []string
					for _, k := range s.Kinds() {
						kinds = append(kinds, string(k))
					}
					fmt.Fprintf(tw, "\t\tcan show: %s\n", strings.Join(kinds, ", "))
				}
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "also print each scope's settings and the kinds it can show")
	return cmd
}
