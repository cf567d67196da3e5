module example.com/fakeapp

go 1.22
