# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mq_global_optspecs
    string join \n h/help V/version
end

function __fish_mq_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mq_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mq_using_subcommand
    set -l cmd (__fish_mq_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mq -n "__fish_mq_needs_command" -s h -l help -d 'Print help'
complete -c mq -n "__fish_mq_needs_command" -s V -l version -d 'Print version'
complete -c mq -n "__fish_mq_needs_command" -f -a "pub" -d 'Publish messages (mosquitto_pub compatible)'
complete -c mq -n "__fish_mq_needs_command" -f -a "sub" -d 'Subscribe and print messages (mosquitto_sub compatible)'
complete -c mq -n "__fish_mq_needs_command" -f -a "rr" -d 'Publish a request and print the response (mosquitto_rr compatible)'
complete -c mq -n "__fish_mq_needs_command" -f -a "broker" -d 'Run the MQTT broker'
complete -c mq -n "__fish_mq_needs_command" -f -a "passwd" -d 'Manage a password file (mosquitto_passwd compatible)'
complete -c mq -n "__fish_mq_needs_command" -f -a "bench" -d 'Benchmark a broker: load generator and latency meter'
complete -c mq -n "__fish_mq_needs_command" -f -a "carpark" -d 'The car-park teaching system'
complete -c mq -n "__fish_mq_needs_command" -f -a "completions" -d 'Generate shell completions'
complete -c mq -n "__fish_mq_needs_command" -f -a "man" -d 'Generate man pages'
complete -c mq -n "__fish_mq_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand pub" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s t -l topic -d 'Topic to publish to' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s m -l message -d 'Message payload' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s f -l file -d 'Send the contents of a file as the message' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -s q -l qos -d 'Quality of service: 0, 1 or 2' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l repeat -d 'Publish the -m/-f/-s/-n message N times' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l repeat-delay -d 'With --repeat, wait this many seconds (fractions allowed) between publishes' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s M -d 'Maximum QoS 1/2 messages in flight' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s I -l id-prefix -d 'Client id prefix: the client id is PREFIX followed by the process id' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s A -d 'Bind the outgoing socket to this local address (or host name)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l unix -d 'Connect through this Unix domain socket instead of TCP (Unix only)' -r -F
complete -c mq -n "__fish_mq_using_subcommand pub" -l proxy -d 'Connect through a SOCKS5 proxy: socks5h://[user[:pass]@]host[:port]' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l color -d 'Colour output: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-topic -d 'Topic of the will message sent if this client disconnects unexpectedly' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-payload -d 'Payload of the will message (default: empty)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-qos -d 'QoS of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s x -d 'MQTT 5 session expiry interval in seconds (-1 or ∞ = never)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -s D -l property -d 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)' -r
complete -c mq -n "__fish_mq_using_subcommand pub" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand pub" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand pub" -s l -l stdin-line -d 'Read messages from stdin, one message per line'
complete -c mq -n "__fish_mq_using_subcommand pub" -s s -l stdin-file -d 'Read the whole of stdin as one message'
complete -c mq -n "__fish_mq_using_subcommand pub" -s n -l null-message -d 'Send a null (zero length) message'
complete -c mq -n "__fish_mq_using_subcommand pub" -s r -l retain -d 'Retain the message'
complete -c mq -n "__fish_mq_using_subcommand pub" -l json -d 'Read JSON lines from stdin: {"topic":..,"payload":..,"qos":..,"retain":..}'
complete -c mq -n "__fish_mq_using_subcommand pub" -s c -l disable-clean-session -d 'Disable clean session: keep the session when disconnected (needs -i)'
complete -c mq -n "__fish_mq_using_subcommand pub" -l nodelay -d 'Accepted for mosquitto compatibility, no effect: mq always sets TCP_NODELAY'
complete -c mq -n "__fish_mq_using_subcommand pub" -s S -d 'Look the broker up with a DNS SRV record (not supported yet: fails)'
complete -c mq -n "__fish_mq_using_subcommand pub" -s d -l debug -d 'Print a packet trace on stdout (mosquitto\'s debug lines)'
complete -c mq -n "__fish_mq_using_subcommand pub" -l quiet -d 'Do not print error messages (usage errors are still printed)'
complete -c mq -n "__fish_mq_using_subcommand pub" -l will-retain -d 'Retain the will message'
complete -c mq -n "__fish_mq_using_subcommand pub" -l help -d 'Print help (-h is the host)'
complete -c mq -n "__fish_mq_using_subcommand sub" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s t -l topic -d 'Topic filter to subscribe to (repeatable)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s T -l filter-out -d 'Don\'t print messages whose topic matches this filter (repeatable)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s U -l unsubscribe -d 'Unsubscribe from this filter after subscribing (repeatable)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s q -l qos -d 'Quality of service to subscribe with: 0, 1 or 2' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s C -d 'Exit after this many messages' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s W -d 'Exit with code 27 ("Timed out") if still running after this many seconds' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s F -d 'Output format string (see the man page): %t topic, %p payload, %j JSON...' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l random-filter -d 'Print only about PCT percent of the messages (0.1-100)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s I -l id-prefix -d 'Client id prefix: the client id is PREFIX followed by the process id' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s A -d 'Bind the outgoing socket to this local address (or host name)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l unix -d 'Connect through this Unix domain socket instead of TCP (Unix only)' -r -F
complete -c mq -n "__fish_mq_using_subcommand sub" -l proxy -d 'Connect through a SOCKS5 proxy: socks5h://[user[:pass]@]host[:port]' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l color -d 'Colour output: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-topic -d 'Topic of the will message sent if this client disconnects unexpectedly' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-payload -d 'Payload of the will message (default: empty)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-qos -d 'QoS of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s x -d 'MQTT 5 session expiry interval in seconds (-1 or ∞ = never)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -s D -l property -d 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)' -r
complete -c mq -n "__fish_mq_using_subcommand sub" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand sub" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand sub" -s v -l verbose -d 'Print the topic before the payload'
complete -c mq -n "__fish_mq_using_subcommand sub" -s E -d 'Exit once all subscriptions are acknowledged'
complete -c mq -n "__fish_mq_using_subcommand sub" -s N -d 'Don\'t print a newline after each message'
complete -c mq -n "__fish_mq_using_subcommand sub" -s R -d 'Don\'t print messages with the retain flag set (stale messages)'
complete -c mq -n "__fish_mq_using_subcommand sub" -l retained-only -d 'Print only retained messages; exit on the first non-retained one'
complete -c mq -n "__fish_mq_using_subcommand sub" -l remove-retained -d 'Clear every retained message received (publish an empty retained message)'
complete -c mq -n "__fish_mq_using_subcommand sub" -l retain-as-published -d 'MQTT 5 Retain As Published subscription option'
complete -c mq -n "__fish_mq_using_subcommand sub" -l pretty -d 'Pretty-print JSON output (%j/%J and --json)'
complete -c mq -n "__fish_mq_using_subcommand sub" -l json -d 'One JSON object per message (payload as text, or base64 if not UTF-8)'
complete -c mq -n "__fish_mq_using_subcommand sub" -s c -l disable-clean-session -d 'Disable clean session: keep the session when disconnected (needs -i)'
complete -c mq -n "__fish_mq_using_subcommand sub" -l nodelay -d 'Accepted for mosquitto compatibility, no effect: mq always sets TCP_NODELAY'
complete -c mq -n "__fish_mq_using_subcommand sub" -s S -d 'Look the broker up with a DNS SRV record (not supported yet: fails)'
complete -c mq -n "__fish_mq_using_subcommand sub" -s d -l debug -d 'Print a packet trace on stdout (mosquitto\'s debug lines)'
complete -c mq -n "__fish_mq_using_subcommand sub" -l quiet -d 'Do not print error messages (usage errors are still printed)'
complete -c mq -n "__fish_mq_using_subcommand sub" -l will-retain -d 'Retain the will message'
complete -c mq -n "__fish_mq_using_subcommand sub" -l help -d 'Print help (-h is the host)'
complete -c mq -n "__fish_mq_using_subcommand rr" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s t -l topic -d 'Topic to publish the request to' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s e -l response-topic -d 'Topic to subscribe to for the response (sent as the Response Topic)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s m -l message -d 'Request payload' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s f -l file -d 'Send the contents of a file as the request' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -s q -l qos -d 'Quality of service of the request and the response subscription' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s W -d 'Exit with code 27 ("Timed out") if no response within this many seconds' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s F -d 'Output format string, as for mq sub -F' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s I -l id-prefix -d 'Client id prefix: the client id is PREFIX followed by the process id' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s A -d 'Bind the outgoing socket to this local address (or host name)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l unix -d 'Connect through this Unix domain socket instead of TCP (Unix only)' -r -F
complete -c mq -n "__fish_mq_using_subcommand rr" -l proxy -d 'Connect through a SOCKS5 proxy: socks5h://[user[:pass]@]host[:port]' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l color -d 'Colour output: auto (on a terminal, unless NO_COLOR is set), always or never' -r -f -a "auto\t'On a terminal, unless NO_COLOR is set'
always\t'Always'
never\t'Never'"
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-topic -d 'Topic of the will message sent if this client disconnects unexpectedly' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-payload -d 'Payload of the will message (default: empty)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-qos -d 'QoS of the will message' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s x -d 'MQTT 5 session expiry interval in seconds (-1 or ∞ = never)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -s D -l property -d 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)' -r
complete -c mq -n "__fish_mq_using_subcommand rr" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand rr" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand rr" -s s -l stdin-file -d 'Read the whole of stdin as the request'
complete -c mq -n "__fish_mq_using_subcommand rr" -s n -l null-message -d 'Send an empty request'
complete -c mq -n "__fish_mq_using_subcommand rr" -s R -d 'Ignore retained responses'
complete -c mq -n "__fish_mq_using_subcommand rr" -s v -l verbose -d 'Print the topic before the response payload'
complete -c mq -n "__fish_mq_using_subcommand rr" -s N -d 'Don\'t print a newline after the response'
complete -c mq -n "__fish_mq_using_subcommand rr" -l pretty -d 'Pretty-print JSON output'
complete -c mq -n "__fish_mq_using_subcommand rr" -l json -d 'Print the response as one JSON object'
complete -c mq -n "__fish_mq_using_subcommand rr" -s c -l disable-clean-session -d 'Disable clean session: keep the session when disconnected (needs -i)'
complete -c mq -n "__fish_mq_using_subcommand rr" -l nodelay -d 'Accepted for mosquitto compatibility, no effect: mq always sets TCP_NODELAY'
complete -c mq -n "__fish_mq_using_subcommand rr" -s S -d 'Look the broker up with a DNS SRV record (not supported yet: fails)'
complete -c mq -n "__fish_mq_using_subcommand rr" -s d -l debug -d 'Print a packet trace on stdout (mosquitto\'s debug lines)'
complete -c mq -n "__fish_mq_using_subcommand rr" -l quiet -d 'Do not print error messages (usage errors are still printed)'
complete -c mq -n "__fish_mq_using_subcommand rr" -l will-retain -d 'Retain the will message'
complete -c mq -n "__fish_mq_using_subcommand rr" -l help -d 'Print help (-h is the host)'
complete -c mq -n "__fish_mq_using_subcommand broker" -s p -l port -d 'Port of the local-only listener, or of the --tls-cert one (0 = a free port, printed at start); otherwise ignored when the configuration file defines listeners' -r
complete -c mq -n "__fish_mq_using_subcommand broker" -s c -l config-file -d 'Configuration file in mosquitto.conf syntax' -r -F
complete -c mq -n "__fish_mq_using_subcommand broker" -l tls-cert -d 'Speak TLS with this server certificate chain (PEM; needs --tls-key): on port 8883 unless -p' -r -F
complete -c mq -n "__fish_mq_using_subcommand broker" -l tls-key -d 'The private key of --tls-cert (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand broker" -l ws -d 'Also serve MQTT over WebSocket on this port (0 = a free port), for browsers' -r
complete -c mq -n "__fish_mq_using_subcommand broker" -l http -d 'Serve /healthz, /metrics (Prometheus) and /clients (JSON) over HTTP on this port (0 = a free port): on 127.0.0.1 in local-only mode, else on every IPv4 address (like `http_listener PORT`)' -r
complete -c mq -n "__fish_mq_using_subcommand broker" -l log-format -d 'Log lines as mosquitto\'s text, or one JSON object a line for log collectors (overrides log_format)' -r -f -a "text\t'mosquitto\'s text lines'
json\t'One JSON object a line: ts, unix, level, msg'"
complete -c mq -n "__fish_mq_using_subcommand broker" -l threads -d 'Worker threads serving the clients (default: one per core). One thread hands no work from core to core: on a small machine that its clients share, it can deliver as much for less CPU time (see BENCHMARKS.md)' -r
complete -c mq -n "__fish_mq_using_subcommand broker" -s v -l verbose -d 'Verbose: log every packet in mosquitto\'s words (log_type all)'
complete -c mq -n "__fish_mq_using_subcommand broker" -s d -l daemon -d 'Not supported: there is no daemon mode (use your shell or service manager)'
complete -c mq -n "__fish_mq_using_subcommand broker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s H -d 'The hash to write' -r -f -a "sha512-pbkdf2\t'PBKDF2-SHA512, `$7$` (the default, mosquitto 2)'
sha512\t'Salted SHA-512, `$6$` (mosquitto 1.6 and earlier)'"
complete -c mq -n "__fish_mq_using_subcommand passwd" -s c -d 'Create a new password file (overwrites an existing one)'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s b -d 'Batch mode: the password is the last argument'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s D -d 'Delete the user instead of adding or updating it'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s U -d 'Hash every plain-text password of the file (user:password lines)'
complete -c mq -n "__fish_mq_using_subcommand passwd" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -s h -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -f -a "pub" -d 'Publish load: -c publishers at a rate or as fast as possible'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -f -a "sub" -d 'Subscribe, count deliveries (loss, duplicates, reordering) and measure latency'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -f -a "pubsub" -d 'Publishers and subscribers in one process: throughput and exact latency'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -f -a "conn" -d 'Connection storm: connect-time percentiles and failures by reason'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -f -a "plot" -d 'Draw saved --json summaries side by side into one SVG: latency distributions and per-second rates (e.g. mq broker against mosquitto)'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -f -a "check" -d 'Capability report of a broker: versions, QoS round trips, retained, wildcards, shared subscriptions, largest payload, MQTT 5.0 limits'
complete -c mq -n "__fish_mq_using_subcommand bench; and not __fish_seen_subcommand_from pub sub pubsub conn plot check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s c -l clients -d 'Number of publishing clients' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s I -l interval -d 'Interval between two messages of one publisher, in milliseconds' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l rate -d 'Total publish rate over all publishers (e.g. 1000/s)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s s -l size -d 'Payload size in bytes (at least 28: the sequence and timestamp header)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s q -l qos -d 'Quality of service (publish and subscribe)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s t -l topic -d 'Topic template: %i client index, %c client id, %s message sequence' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l inflight -d 'Unacknowledged QoS 1/2 messages per publisher' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l conn-rate -d 'New connections per second (e.g. 100/s; default all at once)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l limit -d 'Stop after N messages (published for pub/pubsub, received for sub)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l duration -d 'Stop after this long (e.g. 10s, 500ms, 2m)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l csv -d 'Write the per-second series to FILE as CSV' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l plot -d 'Draw the latency distribution and the per-second rates into FILE (SVG)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l label -d 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -s r -l retain -d 'Publish with the retain flag'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l json -d 'Print the summary as one JSON object (schema mq-bench/1)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l quiet -d 'No live progress on stderr'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pub" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s c -l clients -d 'Number of subscribing clients' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s t -l topic -d 'Topic filter to subscribe to' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -s q -l qos -d 'Subscription QoS' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l conn-rate -d 'New connections per second (e.g. 100/s; default all at once)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l limit -d 'Stop after N messages (published for pub/pubsub, received for sub)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l duration -d 'Stop after this long (e.g. 10s, 500ms, 2m)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l csv -d 'Write the per-second series to FILE as CSV' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l plot -d 'Draw the latency distribution and the per-second rates into FILE (SVG)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l label -d 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l json -d 'Print the summary as one JSON object (schema mq-bench/1)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l quiet -d 'No live progress on stderr'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from sub" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s c -l clients -d 'Number of publishing clients' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s I -l interval -d 'Interval between two messages of one publisher, in milliseconds' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l rate -d 'Total publish rate over all publishers (e.g. 1000/s)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s s -l size -d 'Payload size in bytes (at least 28: the sequence and timestamp header)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s q -l qos -d 'Quality of service (publish and subscribe)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s t -l topic -d 'Topic template: %i client index, %c client id, %s message sequence' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l inflight -d 'Unacknowledged QoS 1/2 messages per publisher' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l conn-rate -d 'New connections per second (e.g. 100/s; default all at once)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l subscribers -d 'Number of subscribing clients (each receives every message)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l sub-topic -d 'Subscription filter (default: the topic template with each level holding a placeholder replaced by +)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l drain -d 'Longest wait for acknowledgements and deliveries after the stop' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l limit -d 'Stop after N messages (published for pub/pubsub, received for sub)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l duration -d 'Stop after this long (e.g. 10s, 500ms, 2m)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l csv -d 'Write the per-second series to FILE as CSV' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l plot -d 'Draw the latency distribution and the per-second rates into FILE (SVG)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l label -d 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -s r -l retain -d 'Publish with the retain flag'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l json -d 'Print the summary as one JSON object (schema mq-bench/1)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l quiet -d 'No live progress on stderr'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from pubsub" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -s c -l clients -d 'Number of connections' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l conn-rate -d 'New connections per second (e.g. 1000/s; default as fast as possible)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l hold -d 'Keep the connections open this long once all are attempted (e.g. 10s)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l csv -d 'Write the per-second series to FILE as CSV' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l plot -d 'Draw the latency distribution and the per-second rates into FILE (SVG)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l label -d 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l json -d 'Print the summary as one JSON object (schema mq-bench/1)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l quiet -d 'No live progress on stderr'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from conn" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from plot" -s o -l output -d 'The SVG file to write' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from plot" -l title -d 'Title of the figure (default: the runs\' names)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from plot" -s h -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -s n -l count -d 'Messages per QoS round trip' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l timeout -d 'Time allowed for each step' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l max-payload -d 'Largest payload to probe, in bytes' -r
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l json -d 'Print the report as one JSON object (schema mq-bench-check/1)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from check" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "pub" -d 'Publish load: -c publishers at a rate or as fast as possible'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "sub" -d 'Subscribe, count deliveries (loss, duplicates, reordering) and measure latency'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "pubsub" -d 'Publishers and subscribers in one process: throughput and exact latency'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "conn" -d 'Connection storm: connect-time percentiles and failures by reason'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "plot" -d 'Draw saved --json summaries side by side into one SVG: latency distributions and per-second rates (e.g. mq broker against mosquitto)'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "check" -d 'Capability report of a broker: versions, QoS round trips, retained, wildcards, shared subscriptions, largest payload, MQTT 5.0 limits'
complete -c mq -n "__fish_mq_using_subcommand bench; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -s h -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -f -a "controller" -d 'Count cars, publish the display state and the clock'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -f -a "entry" -d 'An entry gate: report cars coming in (Enter = one car, q = quit)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -f -a "exit" -d 'An exit gate: report cars leaving (Enter = one car, q = quit)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -f -a "display" -d 'A display panel: free spaces, temperature, clock'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -f -a "sensor" -d 'A temperature sensor'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -f -a "demo" -d 'The whole car park in one process, around an embedded broker'
complete -c mq -n "__fish_mq_using_subcommand carpark; and not __fish_seen_subcommand_from controller entry exit display sensor demo help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l capacity -d 'Number of spaces' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l clock-interval -d 'How often to publish the time on PREFIX/time' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l state -d 'Also keep the count in this file (JSON, written atomically)' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l session-expiry -d 'How long the broker keeps the controller\'s session (and the cars sent meanwhile) while it is away; 0 = a clean session. Under MQTT 3.1.1 the broker decides how long' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l prefix -d 'Topic prefix of this car park (e.g. carpark/level2 for a second one)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l reset -d 'Start from an empty car park instead of the retained display / state file'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l quiet -d 'Only print alerts, not every car'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l take-over -d 'Start even if another controller is live on this prefix (it is refused otherwise); with the same client id the other one then stops'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from controller" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l gate -d 'Name of this gate (the last level of its topic)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l count -d 'Send this many cars and exit' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l rate -d 'Random arrivals at this average rate (e.g. 0.5/s, 30/min)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l seed -d 'Seed for the random arrivals and number plates (repeatable runs)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l prefix -d 'Topic prefix of this car park (e.g. carpark/level2 for a second one)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l quiet -d 'Print nothing per car'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from entry" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l gate -d 'Name of this gate (the last level of its topic)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l count -d 'Send this many cars and exit' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l rate -d 'Random arrivals at this average rate (e.g. 0.5/s, 30/min)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l seed -d 'Seed for the random arrivals and number plates (repeatable runs)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l prefix -d 'Topic prefix of this car park (e.g. carpark/level2 for a second one)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l quiet -d 'Print nothing per car'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from exit" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l name -d 'Name shown on the panel' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s W -l timeout -d 'With --once: how long to wait for the controller\'s state' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l web -d 'Also serve the display as a web page on [ADDR:]PORT (ADDR defaults to 127.0.0.1; 0.0.0.0:PORT for other machines; PORT 0 = a free one); the page\'s MQTT goes through /mqtt on the same port to the broker named by -h/-p/-L' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l ws-url -d 'With --web: the page connects straight to this broker WebSocket URL instead of /mqtt (e.g. ws://127.0.0.1:9001/mqtt for `mq broker --ws 9001`)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l prefix -d 'Topic prefix of this car park (e.g. carpark/level2 for a second one)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l once -d 'Print the current state once and exit (exit 1 if none arrives within -W seconds)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l plain -d 'One plain line per update even on a terminal'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from display" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l interval -d 'Time between readings' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l value -d 'Always report this temperature (°C)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l sensor -d 'Name of this sensor (publishes on PREFIX/temperature/NAME)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l count -d 'Stop after this many readings' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l seed -d 'Seed of the random walk (repeatable runs)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l prefix -d 'Topic prefix of this car park (e.g. carpark/level2 for a second one)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l stdin -d 'Read one temperature per line from stdin'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l quiet -d 'Print nothing per reading'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from sensor" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l capacity -d 'Number of spaces' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l rate -d 'Average arrivals per entry gate (exits run at 3/4 of it)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l seed -d 'Seed of the simulated traffic (repeatable runs)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l duration -d 'Stop after this long (default: run until Ctrl-C)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l sensor-interval -d 'Time between temperature readings' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l web -d 'Serve the display as a web page on [ADDR:]PORT (default: a free 127.0.0.1 port)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l prefix -d 'Topic prefix of this car park (e.g. carpark/level2 for a second one)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s h -l host -d 'Broker host to connect to (default: localhost)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s p -l port -d 'Network port (default: 1883, 8883 for MQTT over TLS)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s L -l url -d 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s i -l id -d 'Client identifier' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s k -l keepalive -d 'Keep alive in seconds (default: 60)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s u -l username -d 'User name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s P -l pw -d 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l password-file -d 'Read the password from the first line of FILE' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -s V -l protocol-version -d 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l cafile -d 'CA certificates (PEM) to verify the broker with; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l capath -d 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l cert -d 'Client certificate (PEM) for TLS client authentication' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l key -d 'Client private key (PEM)' -r -F
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l tls-alpn -d 'TLS ALPN protocol name' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l tls-version -d 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l ciphers -d 'OpenSSL cipher list (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l psk -d 'TLS-PSK key (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l psk-identity -d 'TLS-PSK identity (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l tls-engine -d 'OpenSSL engine (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l keyform -d 'OpenSSL key form (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l tls-engine-kpass-sha1 -d 'OpenSSL engine key password (not supported with rustls)' -r
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l no-web -d 'Do not serve the web page'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l insecure -d 'Do not check the broker\'s host name against its certificate'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l tls-use-os-certs -d 'Use TLS and trust the operating system\'s CA bundle (SSL_CERT_FILE or /etc/ssl/...)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from demo" -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from help" -f -a "controller" -d 'Count cars, publish the display state and the clock'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from help" -f -a "entry" -d 'An entry gate: report cars coming in (Enter = one car, q = quit)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from help" -f -a "exit" -d 'An exit gate: report cars leaving (Enter = one car, q = quit)'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from help" -f -a "display" -d 'A display panel: free spaces, temperature, clock'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from help" -f -a "sensor" -d 'A temperature sensor'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from help" -f -a "demo" -d 'The whole car park in one process, around an embedded broker'
complete -c mq -n "__fish_mq_using_subcommand carpark; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand completions" -l dir -d 'Write the file(s) into DIR instead of printing to stdout' -r -F
complete -c mq -n "__fish_mq_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mq -n "__fish_mq_using_subcommand man" -l dir -d 'Write mq.1 and one page per subcommand (mq-pub.1, ...) into DIR; without it, print mq.1 to stdout' -r -F
complete -c mq -n "__fish_mq_using_subcommand man" -s h -l help -d 'Print help'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "pub" -d 'Publish messages (mosquitto_pub compatible)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "sub" -d 'Subscribe and print messages (mosquitto_sub compatible)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "rr" -d 'Publish a request and print the response (mosquitto_rr compatible)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "broker" -d 'Run the MQTT broker'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "passwd" -d 'Manage a password file (mosquitto_passwd compatible)'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "bench" -d 'Benchmark a broker: load generator and latency meter'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "carpark" -d 'The car-park teaching system'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "completions" -d 'Generate shell completions'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "man" -d 'Generate man pages'
complete -c mq -n "__fish_mq_using_subcommand help; and not __fish_seen_subcommand_from pub sub rr broker passwd bench carpark completions man help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "pub" -d 'Publish load: -c publishers at a rate or as fast as possible'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "sub" -d 'Subscribe, count deliveries (loss, duplicates, reordering) and measure latency'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "pubsub" -d 'Publishers and subscribers in one process: throughput and exact latency'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "conn" -d 'Connection storm: connect-time percentiles and failures by reason'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "plot" -d 'Draw saved --json summaries side by side into one SVG: latency distributions and per-second rates (e.g. mq broker against mosquitto)'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from bench" -f -a "check" -d 'Capability report of a broker: versions, QoS round trips, retained, wildcards, shared subscriptions, largest payload, MQTT 5.0 limits'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from carpark" -f -a "controller" -d 'Count cars, publish the display state and the clock'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from carpark" -f -a "entry" -d 'An entry gate: report cars coming in (Enter = one car, q = quit)'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from carpark" -f -a "exit" -d 'An exit gate: report cars leaving (Enter = one car, q = quit)'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from carpark" -f -a "display" -d 'A display panel: free spaces, temperature, clock'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from carpark" -f -a "sensor" -d 'A temperature sensor'
complete -c mq -n "__fish_mq_using_subcommand help; and __fish_seen_subcommand_from carpark" -f -a "demo" -d 'The whole car park in one process, around an embedded broker'
