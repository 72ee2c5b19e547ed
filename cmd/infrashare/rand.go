package main

import "crypto/rand"

var cryptoRead = rand.Read
