# Response drafts, revisions and the approval workflow arrive with the statements issue.
