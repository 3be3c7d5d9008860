module harness.local/runc-capstrip

go 1.22
