module github.com/itiny/itiny

go 1.26.8

require (
	github.com/tinylib/msgp v1.6.5
	gopkg.in/natefinch/lumberjack.v2 v2.2.1
)

require (
	github.com/philhofer/fwd v1.2.0 // indirect
	golang.org/x/mod v0.18.0 // indirect
	golang.org/x/tools v0.22.0 // indirect
)

tool github.com/tinylib/msgp
