package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/snapsim/snapsim/model/tikv"
	"github.com/spf13/cobra"
)

func newCollectorsCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "collectors",
		Short:   "List the snapshot file-collection designs",
		Example: "  simrun collectors",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, c := range tikvSys.Designs() {
				fmt.Fprintf(tw, "%s\t%s\n", c.Name, c.Summary)
			}
			return tw.Flush()
		},
	}
}

func newProfilesCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "profiles",
		Short:   "List the workload profiles",
		Example: "  simrun profiles",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, p := range tikv.Profiles() {
				fmt.Fprintf(tw, "%s\t%s\n", p.Name, p.Summary)
			}
			return tw.Flush()
		},
	}
}
