module handclasp.test/gotls

go 1.27
