"""The reporting: analysis of a merged run, the view model, the HTML page, summary, JUnit and diffs."""
