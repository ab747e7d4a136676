// A browser script with no exports: importing it (or serving it) keeps htmx pages resumable.
export {}
