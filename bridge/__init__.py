"Device bridge: protocol adapters → normalised events → elder_device."
