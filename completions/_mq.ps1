
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mq' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mq'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mq' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish messages (mosquitto_pub compatible)')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe and print messages (mosquitto_sub compatible)')
            [CompletionResult]::new('rr', 'rr', [CompletionResultType]::ParameterValue, 'Publish a request and print the response (mosquitto_rr compatible)')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run the MQTT broker')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Manage a password file (mosquitto_passwd compatible)')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Benchmark a broker: load generator and latency meter')
            [CompletionResult]::new('carpark', 'carpark', [CompletionResultType]::ParameterValue, 'The car-park teaching system')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Generate shell completions')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Generate man pages')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;pub' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic to publish to')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic to publish to')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Message payload')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Message payload')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Send the contents of a file as the message')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Send the contents of a file as the message')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service: 0, 1 or 2')
            [CompletionResult]::new('--repeat', '--repeat', [CompletionResultType]::ParameterName, 'Publish the -m/-f/-s/-n message N times')
            [CompletionResult]::new('--repeat-delay', '--repeat-delay', [CompletionResultType]::ParameterName, 'With --repeat, wait this many seconds (fractions allowed) between publishes')
            [CompletionResult]::new('-M', '-M ', [CompletionResultType]::ParameterName, 'Maximum QoS 1/2 messages in flight')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Client id prefix: the client id is PREFIX followed by the process id')
            [CompletionResult]::new('--id-prefix', '--id-prefix', [CompletionResultType]::ParameterName, 'Client id prefix: the client id is PREFIX followed by the process id')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Bind the outgoing socket to this local address (or host name)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect through this Unix domain socket instead of TCP (Unix only)')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through a SOCKS5 proxy: socks5h://[user[:pass]@]host[:port]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (on a terminal, unless NO_COLOR is set), always or never')
            [CompletionResult]::new('--will-topic', '--will-topic', [CompletionResultType]::ParameterName, 'Topic of the will message sent if this client disconnects unexpectedly')
            [CompletionResult]::new('--will-payload', '--will-payload', [CompletionResultType]::ParameterName, 'Payload of the will message (default: empty)')
            [CompletionResult]::new('--will-qos', '--will-qos', [CompletionResultType]::ParameterName, 'QoS of the will message')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'MQTT 5 session expiry interval in seconds (-1 or ∞ = never)')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)')
            [CompletionResult]::new('--property', '--property', [CompletionResultType]::ParameterName, 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('-l', '-l', [CompletionResultType]::ParameterName, 'Read messages from stdin, one message per line')
            [CompletionResult]::new('--stdin-line', '--stdin-line', [CompletionResultType]::ParameterName, 'Read messages from stdin, one message per line')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Read the whole of stdin as one message')
            [CompletionResult]::new('--stdin-file', '--stdin-file', [CompletionResultType]::ParameterName, 'Read the whole of stdin as one message')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Send a null (zero length) message')
            [CompletionResult]::new('--null-message', '--null-message', [CompletionResultType]::ParameterName, 'Send a null (zero length) message')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Retain the message')
            [CompletionResult]::new('--retain', '--retain', [CompletionResultType]::ParameterName, 'Retain the message')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Read JSON lines from stdin: {"topic":..,"payload":..,"qos":..,"retain":..}')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Disable clean session: keep the session when disconnected (needs -i)')
            [CompletionResult]::new('--disable-clean-session', '--disable-clean-session', [CompletionResultType]::ParameterName, 'Disable clean session: keep the session when disconnected (needs -i)')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Accepted for mosquitto compatibility, no effect: mq always sets TCP_NODELAY')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Look the broker up with a DNS SRV record (not supported yet: fails)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Print a packet trace on stdout (mosquitto''s debug lines)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Print a packet trace on stdout (mosquitto''s debug lines)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print error messages (usage errors are still printed)')
            [CompletionResult]::new('--will-retain', '--will-retain', [CompletionResultType]::ParameterName, 'Retain the will message')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h is the host)')
            break
        }
        'mq;sub' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic filter to subscribe to (repeatable)')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic filter to subscribe to (repeatable)')
            [CompletionResult]::new('-T', '-T ', [CompletionResultType]::ParameterName, 'Don''t print messages whose topic matches this filter (repeatable)')
            [CompletionResult]::new('--filter-out', '--filter-out', [CompletionResultType]::ParameterName, 'Don''t print messages whose topic matches this filter (repeatable)')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Unsubscribe from this filter after subscribing (repeatable)')
            [CompletionResult]::new('--unsubscribe', '--unsubscribe', [CompletionResultType]::ParameterName, 'Unsubscribe from this filter after subscribing (repeatable)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quality of service to subscribe with: 0, 1 or 2')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service to subscribe with: 0, 1 or 2')
            [CompletionResult]::new('-C', '-C ', [CompletionResultType]::ParameterName, 'Exit after this many messages')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Exit with code 27 ("Timed out") if still running after this many seconds')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output format string (see the man page): %t topic, %p payload, %j JSON...')
            [CompletionResult]::new('--random-filter', '--random-filter', [CompletionResultType]::ParameterName, 'Print only about PCT percent of the messages (0.1-100)')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Client id prefix: the client id is PREFIX followed by the process id')
            [CompletionResult]::new('--id-prefix', '--id-prefix', [CompletionResultType]::ParameterName, 'Client id prefix: the client id is PREFIX followed by the process id')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Bind the outgoing socket to this local address (or host name)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect through this Unix domain socket instead of TCP (Unix only)')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through a SOCKS5 proxy: socks5h://[user[:pass]@]host[:port]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (on a terminal, unless NO_COLOR is set), always or never')
            [CompletionResult]::new('--will-topic', '--will-topic', [CompletionResultType]::ParameterName, 'Topic of the will message sent if this client disconnects unexpectedly')
            [CompletionResult]::new('--will-payload', '--will-payload', [CompletionResultType]::ParameterName, 'Payload of the will message (default: empty)')
            [CompletionResult]::new('--will-qos', '--will-qos', [CompletionResultType]::ParameterName, 'QoS of the will message')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'MQTT 5 session expiry interval in seconds (-1 or ∞ = never)')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)')
            [CompletionResult]::new('--property', '--property', [CompletionResultType]::ParameterName, 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the topic before the payload')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the topic before the payload')
            [CompletionResult]::new('-E', '-E ', [CompletionResultType]::ParameterName, 'Exit once all subscriptions are acknowledged')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Don''t print a newline after each message')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Don''t print messages with the retain flag set (stale messages)')
            [CompletionResult]::new('--retained-only', '--retained-only', [CompletionResultType]::ParameterName, 'Print only retained messages; exit on the first non-retained one')
            [CompletionResult]::new('--remove-retained', '--remove-retained', [CompletionResultType]::ParameterName, 'Clear every retained message received (publish an empty retained message)')
            [CompletionResult]::new('--retain-as-published', '--retain-as-published', [CompletionResultType]::ParameterName, 'MQTT 5 Retain As Published subscription option')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print JSON output (%j/%J and --json)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'One JSON object per message (payload as text, or base64 if not UTF-8)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Disable clean session: keep the session when disconnected (needs -i)')
            [CompletionResult]::new('--disable-clean-session', '--disable-clean-session', [CompletionResultType]::ParameterName, 'Disable clean session: keep the session when disconnected (needs -i)')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Accepted for mosquitto compatibility, no effect: mq always sets TCP_NODELAY')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Look the broker up with a DNS SRV record (not supported yet: fails)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Print a packet trace on stdout (mosquitto''s debug lines)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Print a packet trace on stdout (mosquitto''s debug lines)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print error messages (usage errors are still printed)')
            [CompletionResult]::new('--will-retain', '--will-retain', [CompletionResultType]::ParameterName, 'Retain the will message')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h is the host)')
            break
        }
        'mq;rr' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic to publish the request to')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic to publish the request to')
            [CompletionResult]::new('-e', '-e', [CompletionResultType]::ParameterName, 'Topic to subscribe to for the response (sent as the Response Topic)')
            [CompletionResult]::new('--response-topic', '--response-topic', [CompletionResultType]::ParameterName, 'Topic to subscribe to for the response (sent as the Response Topic)')
            [CompletionResult]::new('-m', '-m', [CompletionResultType]::ParameterName, 'Request payload')
            [CompletionResult]::new('--message', '--message', [CompletionResultType]::ParameterName, 'Request payload')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Send the contents of a file as the request')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Send the contents of a file as the request')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quality of service of the request and the response subscription')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service of the request and the response subscription')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'Exit with code 27 ("Timed out") if no response within this many seconds')
            [CompletionResult]::new('-F', '-F ', [CompletionResultType]::ParameterName, 'Output format string, as for mq sub -F')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Client id prefix: the client id is PREFIX followed by the process id')
            [CompletionResult]::new('--id-prefix', '--id-prefix', [CompletionResultType]::ParameterName, 'Client id prefix: the client id is PREFIX followed by the process id')
            [CompletionResult]::new('-A', '-A ', [CompletionResultType]::ParameterName, 'Bind the outgoing socket to this local address (or host name)')
            [CompletionResult]::new('--unix', '--unix', [CompletionResultType]::ParameterName, 'Connect through this Unix domain socket instead of TCP (Unix only)')
            [CompletionResult]::new('--proxy', '--proxy', [CompletionResultType]::ParameterName, 'Connect through a SOCKS5 proxy: socks5h://[user[:pass]@]host[:port]')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour output: auto (on a terminal, unless NO_COLOR is set), always or never')
            [CompletionResult]::new('--will-topic', '--will-topic', [CompletionResultType]::ParameterName, 'Topic of the will message sent if this client disconnects unexpectedly')
            [CompletionResult]::new('--will-payload', '--will-payload', [CompletionResultType]::ParameterName, 'Payload of the will message (default: empty)')
            [CompletionResult]::new('--will-qos', '--will-qos', [CompletionResultType]::ParameterName, 'QoS of the will message')
            [CompletionResult]::new('-x', '-x', [CompletionResultType]::ParameterName, 'MQTT 5 session expiry interval in seconds (-1 or ∞ = never)')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)')
            [CompletionResult]::new('--property', '--property', [CompletionResultType]::ParameterName, 'MQTT 5 property: -D COMMAND NAME VALUE (or NAME KEY VALUE for user-property)')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Read the whole of stdin as the request')
            [CompletionResult]::new('--stdin-file', '--stdin-file', [CompletionResultType]::ParameterName, 'Read the whole of stdin as the request')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Send an empty request')
            [CompletionResult]::new('--null-message', '--null-message', [CompletionResultType]::ParameterName, 'Send an empty request')
            [CompletionResult]::new('-R', '-R ', [CompletionResultType]::ParameterName, 'Ignore retained responses')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Print the topic before the response payload')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Print the topic before the response payload')
            [CompletionResult]::new('-N', '-N ', [CompletionResultType]::ParameterName, 'Don''t print a newline after the response')
            [CompletionResult]::new('--pretty', '--pretty', [CompletionResultType]::ParameterName, 'Pretty-print JSON output')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the response as one JSON object')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Disable clean session: keep the session when disconnected (needs -i)')
            [CompletionResult]::new('--disable-clean-session', '--disable-clean-session', [CompletionResultType]::ParameterName, 'Disable clean session: keep the session when disconnected (needs -i)')
            [CompletionResult]::new('--nodelay', '--nodelay', [CompletionResultType]::ParameterName, 'Accepted for mosquitto compatibility, no effect: mq always sets TCP_NODELAY')
            [CompletionResult]::new('-S', '-S ', [CompletionResultType]::ParameterName, 'Look the broker up with a DNS SRV record (not supported yet: fails)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Print a packet trace on stdout (mosquitto''s debug lines)')
            [CompletionResult]::new('--debug', '--debug', [CompletionResultType]::ParameterName, 'Print a packet trace on stdout (mosquitto''s debug lines)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Do not print error messages (usage errors are still printed)')
            [CompletionResult]::new('--will-retain', '--will-retain', [CompletionResultType]::ParameterName, 'Retain the will message')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (-h is the host)')
            break
        }
        'mq;broker' {
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Port of the local-only listener, or of the --tls-cert one (0 = a free port, printed at start); otherwise ignored when the configuration file defines listeners')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Port of the local-only listener, or of the --tls-cert one (0 = a free port, printed at start); otherwise ignored when the configuration file defines listeners')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Configuration file in mosquitto.conf syntax')
            [CompletionResult]::new('--config-file', '--config-file', [CompletionResultType]::ParameterName, 'Configuration file in mosquitto.conf syntax')
            [CompletionResult]::new('--tls-cert', '--tls-cert', [CompletionResultType]::ParameterName, 'Speak TLS with this server certificate chain (PEM; needs --tls-key): on port 8883 unless -p')
            [CompletionResult]::new('--tls-key', '--tls-key', [CompletionResultType]::ParameterName, 'The private key of --tls-cert (PEM)')
            [CompletionResult]::new('--ws', '--ws', [CompletionResultType]::ParameterName, 'Also serve MQTT over WebSocket on this port (0 = a free port), for browsers')
            [CompletionResult]::new('--http', '--http', [CompletionResultType]::ParameterName, 'Serve /healthz, /metrics (Prometheus) and /clients (JSON) over HTTP on this port (0 = a free port): on 127.0.0.1 in local-only mode, else on every IPv4 address (like `http_listener PORT`)')
            [CompletionResult]::new('--log-format', '--log-format', [CompletionResultType]::ParameterName, 'Log lines as mosquitto''s text, or one JSON object a line for log collectors (overrides log_format)')
            [CompletionResult]::new('--threads', '--threads', [CompletionResultType]::ParameterName, 'Worker threads serving the clients (default: one per core). One thread hands no work from core to core: on a small machine that its clients share, it can deliver as much for less CPU time (see BENCHMARKS.md)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'Verbose: log every packet in mosquitto''s words (log_type all)')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'Verbose: log every packet in mosquitto''s words (log_type all)')
            [CompletionResult]::new('-d', '-d', [CompletionResultType]::ParameterName, 'Not supported: there is no daemon mode (use your shell or service manager)')
            [CompletionResult]::new('--daemon', '--daemon', [CompletionResultType]::ParameterName, 'Not supported: there is no daemon mode (use your shell or service manager)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mq;passwd' {
            [CompletionResult]::new('-H', '-H ', [CompletionResultType]::ParameterName, 'The hash to write')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Create a new password file (overwrites an existing one)')
            [CompletionResult]::new('-b', '-b', [CompletionResultType]::ParameterName, 'Batch mode: the password is the last argument')
            [CompletionResult]::new('-D', '-D ', [CompletionResultType]::ParameterName, 'Delete the user instead of adding or updating it')
            [CompletionResult]::new('-U', '-U ', [CompletionResultType]::ParameterName, 'Hash every plain-text password of the file (user:password lines)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mq;bench' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish load: -c publishers at a rate or as fast as possible')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe, count deliveries (loss, duplicates, reordering) and measure latency')
            [CompletionResult]::new('pubsub', 'pubsub', [CompletionResultType]::ParameterValue, 'Publishers and subscribers in one process: throughput and exact latency')
            [CompletionResult]::new('conn', 'conn', [CompletionResultType]::ParameterValue, 'Connection storm: connect-time percentiles and failures by reason')
            [CompletionResult]::new('plot', 'plot', [CompletionResultType]::ParameterValue, 'Draw saved --json summaries side by side into one SVG: latency distributions and per-second rates (e.g. mq broker against mosquitto)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Capability report of a broker: versions, QoS round trips, retained, wildcards, shared subscriptions, largest payload, MQTT 5.0 limits')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;bench;pub' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Number of publishing clients')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Number of publishing clients')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Interval between two messages of one publisher, in milliseconds')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Interval between two messages of one publisher, in milliseconds')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Total publish rate over all publishers (e.g. 1000/s)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Payload size in bytes (at least 28: the sequence and timestamp header)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Payload size in bytes (at least 28: the sequence and timestamp header)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quality of service (publish and subscribe)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service (publish and subscribe)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic template: %i client index, %c client id, %s message sequence')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic template: %i client index, %c client id, %s message sequence')
            [CompletionResult]::new('--inflight', '--inflight', [CompletionResultType]::ParameterName, 'Unacknowledged QoS 1/2 messages per publisher')
            [CompletionResult]::new('--conn-rate', '--conn-rate', [CompletionResultType]::ParameterName, 'New connections per second (e.g. 100/s; default all at once)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Stop after N messages (published for pub/pubsub, received for sub)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long (e.g. 10s, 500ms, 2m)')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Write the per-second series to FILE as CSV')
            [CompletionResult]::new('--plot', '--plot', [CompletionResultType]::ParameterName, 'Draw the latency distribution and the per-second rates into FILE (SVG)')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Publish with the retain flag')
            [CompletionResult]::new('--retain', '--retain', [CompletionResultType]::ParameterName, 'Publish with the retain flag')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object (schema mq-bench/1)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No live progress on stderr')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;bench;sub' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Number of subscribing clients')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Number of subscribing clients')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic filter to subscribe to')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic filter to subscribe to')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Subscription QoS')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Subscription QoS')
            [CompletionResult]::new('--conn-rate', '--conn-rate', [CompletionResultType]::ParameterName, 'New connections per second (e.g. 100/s; default all at once)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Stop after N messages (published for pub/pubsub, received for sub)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long (e.g. 10s, 500ms, 2m)')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Write the per-second series to FILE as CSV')
            [CompletionResult]::new('--plot', '--plot', [CompletionResultType]::ParameterName, 'Draw the latency distribution and the per-second rates into FILE (SVG)')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object (schema mq-bench/1)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No live progress on stderr')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;bench;pubsub' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Number of publishing clients')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Number of publishing clients')
            [CompletionResult]::new('-I', '-I ', [CompletionResultType]::ParameterName, 'Interval between two messages of one publisher, in milliseconds')
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Interval between two messages of one publisher, in milliseconds')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Total publish rate over all publishers (e.g. 1000/s)')
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Payload size in bytes (at least 28: the sequence and timestamp header)')
            [CompletionResult]::new('--size', '--size', [CompletionResultType]::ParameterName, 'Payload size in bytes (at least 28: the sequence and timestamp header)')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Quality of service (publish and subscribe)')
            [CompletionResult]::new('--qos', '--qos', [CompletionResultType]::ParameterName, 'Quality of service (publish and subscribe)')
            [CompletionResult]::new('-t', '-t', [CompletionResultType]::ParameterName, 'Topic template: %i client index, %c client id, %s message sequence')
            [CompletionResult]::new('--topic', '--topic', [CompletionResultType]::ParameterName, 'Topic template: %i client index, %c client id, %s message sequence')
            [CompletionResult]::new('--inflight', '--inflight', [CompletionResultType]::ParameterName, 'Unacknowledged QoS 1/2 messages per publisher')
            [CompletionResult]::new('--conn-rate', '--conn-rate', [CompletionResultType]::ParameterName, 'New connections per second (e.g. 100/s; default all at once)')
            [CompletionResult]::new('--subscribers', '--subscribers', [CompletionResultType]::ParameterName, 'Number of subscribing clients (each receives every message)')
            [CompletionResult]::new('--sub-topic', '--sub-topic', [CompletionResultType]::ParameterName, 'Subscription filter (default: the topic template with each level holding a placeholder replaced by +)')
            [CompletionResult]::new('--drain', '--drain', [CompletionResultType]::ParameterName, 'Longest wait for acknowledgements and deliveries after the stop')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Stop after N messages (published for pub/pubsub, received for sub)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long (e.g. 10s, 500ms, 2m)')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Write the per-second series to FILE as CSV')
            [CompletionResult]::new('--plot', '--plot', [CompletionResultType]::ParameterName, 'Draw the latency distribution and the per-second rates into FILE (SVG)')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('-r', '-r', [CompletionResultType]::ParameterName, 'Publish with the retain flag')
            [CompletionResult]::new('--retain', '--retain', [CompletionResultType]::ParameterName, 'Publish with the retain flag')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object (schema mq-bench/1)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No live progress on stderr')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;bench;conn' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Number of connections')
            [CompletionResult]::new('--clients', '--clients', [CompletionResultType]::ParameterName, 'Number of connections')
            [CompletionResult]::new('--conn-rate', '--conn-rate', [CompletionResultType]::ParameterName, 'New connections per second (e.g. 1000/s; default as fast as possible)')
            [CompletionResult]::new('--hold', '--hold', [CompletionResultType]::ParameterName, 'Keep the connections open this long once all are attempted (e.g. 10s)')
            [CompletionResult]::new('--csv', '--csv', [CompletionResultType]::ParameterName, 'Write the per-second series to FILE as CSV')
            [CompletionResult]::new('--plot', '--plot', [CompletionResultType]::ParameterName, 'Draw the latency distribution and the per-second rates into FILE (SVG)')
            [CompletionResult]::new('--label', '--label', [CompletionResultType]::ParameterName, 'What this run measures, e.g. "mosquitto 2.0.18": shown in the summary, the JSON and the plot')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the summary as one JSON object (schema mq-bench/1)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No live progress on stderr')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;bench;plot' {
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'The SVG file to write')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'The SVG file to write')
            [CompletionResult]::new('--title', '--title', [CompletionResultType]::ParameterName, 'Title of the figure (default: the runs'' names)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;bench;check' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Messages per QoS round trip')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Messages per QoS round trip')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Time allowed for each step')
            [CompletionResult]::new('--max-payload', '--max-payload', [CompletionResultType]::ParameterName, 'Largest payload to probe, in bytes')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as one JSON object (schema mq-bench-check/1)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;bench;help' {
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish load: -c publishers at a rate or as fast as possible')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe, count deliveries (loss, duplicates, reordering) and measure latency')
            [CompletionResult]::new('pubsub', 'pubsub', [CompletionResultType]::ParameterValue, 'Publishers and subscribers in one process: throughput and exact latency')
            [CompletionResult]::new('conn', 'conn', [CompletionResultType]::ParameterValue, 'Connection storm: connect-time percentiles and failures by reason')
            [CompletionResult]::new('plot', 'plot', [CompletionResultType]::ParameterValue, 'Draw saved --json summaries side by side into one SVG: latency distributions and per-second rates (e.g. mq broker against mosquitto)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Capability report of a broker: versions, QoS round trips, retained, wildcards, shared subscriptions, largest payload, MQTT 5.0 limits')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;bench;help;pub' {
            break
        }
        'mq;bench;help;sub' {
            break
        }
        'mq;bench;help;pubsub' {
            break
        }
        'mq;bench;help;conn' {
            break
        }
        'mq;bench;help;plot' {
            break
        }
        'mq;bench;help;check' {
            break
        }
        'mq;bench;help;help' {
            break
        }
        'mq;carpark' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('controller', 'controller', [CompletionResultType]::ParameterValue, 'Count cars, publish the display state and the clock')
            [CompletionResult]::new('entry', 'entry', [CompletionResultType]::ParameterValue, 'An entry gate: report cars coming in (Enter = one car, q = quit)')
            [CompletionResult]::new('exit', 'exit', [CompletionResultType]::ParameterValue, 'An exit gate: report cars leaving (Enter = one car, q = quit)')
            [CompletionResult]::new('display', 'display', [CompletionResultType]::ParameterValue, 'A display panel: free spaces, temperature, clock')
            [CompletionResult]::new('sensor', 'sensor', [CompletionResultType]::ParameterValue, 'A temperature sensor')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'The whole car park in one process, around an embedded broker')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;carpark;controller' {
            [CompletionResult]::new('--capacity', '--capacity', [CompletionResultType]::ParameterName, 'Number of spaces')
            [CompletionResult]::new('--clock-interval', '--clock-interval', [CompletionResultType]::ParameterName, 'How often to publish the time on PREFIX/time')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Also keep the count in this file (JSON, written atomically)')
            [CompletionResult]::new('--session-expiry', '--session-expiry', [CompletionResultType]::ParameterName, 'How long the broker keeps the controller''s session (and the cars sent meanwhile) while it is away; 0 = a clean session. Under MQTT 3.1.1 the broker decides how long')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Topic prefix of this car park (e.g. carpark/level2 for a second one)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('--reset', '--reset', [CompletionResultType]::ParameterName, 'Start from an empty car park instead of the retained display / state file')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Only print alerts, not every car')
            [CompletionResult]::new('--take-over', '--take-over', [CompletionResultType]::ParameterName, 'Start even if another controller is live on this prefix (it is refused otherwise); with the same client id the other one then stops')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;carpark;entry' {
            [CompletionResult]::new('--gate', '--gate', [CompletionResultType]::ParameterName, 'Name of this gate (the last level of its topic)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Send this many cars and exit')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Random arrivals at this average rate (e.g. 0.5/s, 30/min)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the random arrivals and number plates (repeatable runs)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Topic prefix of this car park (e.g. carpark/level2 for a second one)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing per car')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;carpark;exit' {
            [CompletionResult]::new('--gate', '--gate', [CompletionResultType]::ParameterName, 'Name of this gate (the last level of its topic)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Send this many cars and exit')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Random arrivals at this average rate (e.g. 0.5/s, 30/min)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed for the random arrivals and number plates (repeatable runs)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Topic prefix of this car park (e.g. carpark/level2 for a second one)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing per car')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;carpark;display' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Name shown on the panel')
            [CompletionResult]::new('-W', '-W ', [CompletionResultType]::ParameterName, 'With --once: how long to wait for the controller''s state')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'With --once: how long to wait for the controller''s state')
            [CompletionResult]::new('--web', '--web', [CompletionResultType]::ParameterName, 'Also serve the display as a web page on [ADDR:]PORT (ADDR defaults to 127.0.0.1; 0.0.0.0:PORT for other machines; PORT 0 = a free one); the page''s MQTT goes through /mqtt on the same port to the broker named by -h/-p/-L')
            [CompletionResult]::new('--ws-url', '--ws-url', [CompletionResultType]::ParameterName, 'With --web: the page connects straight to this broker WebSocket URL instead of /mqtt (e.g. ws://127.0.0.1:9001/mqtt for `mq broker --ws 9001`)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Topic prefix of this car park (e.g. carpark/level2 for a second one)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Print the current state once and exit (exit 1 if none arrives within -W seconds)')
            [CompletionResult]::new('--plain', '--plain', [CompletionResultType]::ParameterName, 'One plain line per update even on a terminal')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;carpark;sensor' {
            [CompletionResult]::new('--interval', '--interval', [CompletionResultType]::ParameterName, 'Time between readings')
            [CompletionResult]::new('--value', '--value', [CompletionResultType]::ParameterName, 'Always report this temperature (°C)')
            [CompletionResult]::new('--sensor', '--sensor', [CompletionResultType]::ParameterName, 'Name of this sensor (publishes on PREFIX/temperature/NAME)')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Stop after this many readings')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the random walk (repeatable runs)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Topic prefix of this car park (e.g. carpark/level2 for a second one)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('--stdin', '--stdin', [CompletionResultType]::ParameterName, 'Read one temperature per line from stdin')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing per reading')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;carpark;demo' {
            [CompletionResult]::new('--capacity', '--capacity', [CompletionResultType]::ParameterName, 'Number of spaces')
            [CompletionResult]::new('--rate', '--rate', [CompletionResultType]::ParameterName, 'Average arrivals per entry gate (exits run at 3/4 of it)')
            [CompletionResult]::new('--seed', '--seed', [CompletionResultType]::ParameterName, 'Seed of the simulated traffic (repeatable runs)')
            [CompletionResult]::new('--duration', '--duration', [CompletionResultType]::ParameterName, 'Stop after this long (default: run until Ctrl-C)')
            [CompletionResult]::new('--sensor-interval', '--sensor-interval', [CompletionResultType]::ParameterName, 'Time between temperature readings')
            [CompletionResult]::new('--web', '--web', [CompletionResultType]::ParameterName, 'Serve the display as a web page on [ADDR:]PORT (default: a free 127.0.0.1 port)')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Topic prefix of this car park (e.g. carpark/level2 for a second one)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('--host', '--host', [CompletionResultType]::ParameterName, 'Broker host to connect to (default: localhost)')
            [CompletionResult]::new('-p', '-p', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('--port', '--port', [CompletionResultType]::ParameterName, 'Network port (default: 1883, 8883 for MQTT over TLS)')
            [CompletionResult]::new('-L', '-L ', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('--url', '--url', [CompletionResultType]::ParameterName, 'Broker URL: mqtt(s)://[user[:pass]@]host[:port][/topic] or ws(s)://host[:port][/path]')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('--id', '--id', [CompletionResultType]::ParameterName, 'Client identifier')
            [CompletionResult]::new('-k', '-k', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('--keepalive', '--keepalive', [CompletionResultType]::ParameterName, 'Keep alive in seconds (default: 60)')
            [CompletionResult]::new('-u', '-u', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('--username', '--username', [CompletionResultType]::ParameterName, 'User name')
            [CompletionResult]::new('-P', '-P ', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--pw', '--pw', [CompletionResultType]::ParameterName, 'Password; `-` reads it from stdin (a no-echo prompt on a terminal)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from the first line of FILE')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--protocol-version', '--protocol-version', [CompletionResultType]::ParameterName, 'MQTT protocol version: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)')
            [CompletionResult]::new('--cafile', '--cafile', [CompletionResultType]::ParameterName, 'CA certificates (PEM) to verify the broker with; enables TLS')
            [CompletionResult]::new('--capath', '--capath', [CompletionResultType]::ParameterName, 'Directory of CA certificates (PEM); every certificate in it is trusted; enables TLS')
            [CompletionResult]::new('--cert', '--cert', [CompletionResultType]::ParameterName, 'Client certificate (PEM) for TLS client authentication')
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Client private key (PEM)')
            [CompletionResult]::new('--tls-alpn', '--tls-alpn', [CompletionResultType]::ParameterName, 'TLS ALPN protocol name')
            [CompletionResult]::new('--tls-version', '--tls-version', [CompletionResultType]::ParameterName, 'Only use this TLS version: tlsv1.3 or tlsv1.2 (default: both)')
            [CompletionResult]::new('--ciphers', '--ciphers', [CompletionResultType]::ParameterName, 'OpenSSL cipher list (not supported with rustls)')
            [CompletionResult]::new('--psk', '--psk', [CompletionResultType]::ParameterName, 'TLS-PSK key (not supported with rustls)')
            [CompletionResult]::new('--psk-identity', '--psk-identity', [CompletionResultType]::ParameterName, 'TLS-PSK identity (not supported with rustls)')
            [CompletionResult]::new('--tls-engine', '--tls-engine', [CompletionResultType]::ParameterName, 'OpenSSL engine (not supported with rustls)')
            [CompletionResult]::new('--keyform', '--keyform', [CompletionResultType]::ParameterName, 'OpenSSL key form (not supported with rustls)')
            [CompletionResult]::new('--tls-engine-kpass-sha1', '--tls-engine-kpass-sha1', [CompletionResultType]::ParameterName, 'OpenSSL engine key password (not supported with rustls)')
            [CompletionResult]::new('--no-web', '--no-web', [CompletionResultType]::ParameterName, 'Do not serve the web page')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not check the broker''s host name against its certificate')
            [CompletionResult]::new('--tls-use-os-certs', '--tls-use-os-certs', [CompletionResultType]::ParameterName, 'Use TLS and trust the operating system''s CA bundle (SSL_CERT_FILE or /etc/ssl/...)')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;carpark;help' {
            [CompletionResult]::new('controller', 'controller', [CompletionResultType]::ParameterValue, 'Count cars, publish the display state and the clock')
            [CompletionResult]::new('entry', 'entry', [CompletionResultType]::ParameterValue, 'An entry gate: report cars coming in (Enter = one car, q = quit)')
            [CompletionResult]::new('exit', 'exit', [CompletionResultType]::ParameterValue, 'An exit gate: report cars leaving (Enter = one car, q = quit)')
            [CompletionResult]::new('display', 'display', [CompletionResultType]::ParameterValue, 'A display panel: free spaces, temperature, clock')
            [CompletionResult]::new('sensor', 'sensor', [CompletionResultType]::ParameterValue, 'A temperature sensor')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'The whole car park in one process, around an embedded broker')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;carpark;help;controller' {
            break
        }
        'mq;carpark;help;entry' {
            break
        }
        'mq;carpark;help;exit' {
            break
        }
        'mq;carpark;help;display' {
            break
        }
        'mq;carpark;help;sensor' {
            break
        }
        'mq;carpark;help;demo' {
            break
        }
        'mq;carpark;help;help' {
            break
        }
        'mq;completions' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write the file(s) into DIR instead of printing to stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mq;man' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Write mq.1 and one page per subcommand (mq-pub.1, ...) into DIR; without it, print mq.1 to stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mq;help' {
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish messages (mosquitto_pub compatible)')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe and print messages (mosquitto_sub compatible)')
            [CompletionResult]::new('rr', 'rr', [CompletionResultType]::ParameterValue, 'Publish a request and print the response (mosquitto_rr compatible)')
            [CompletionResult]::new('broker', 'broker', [CompletionResultType]::ParameterValue, 'Run the MQTT broker')
            [CompletionResult]::new('passwd', 'passwd', [CompletionResultType]::ParameterValue, 'Manage a password file (mosquitto_passwd compatible)')
            [CompletionResult]::new('bench', 'bench', [CompletionResultType]::ParameterValue, 'Benchmark a broker: load generator and latency meter')
            [CompletionResult]::new('carpark', 'carpark', [CompletionResultType]::ParameterValue, 'The car-park teaching system')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Generate shell completions')
            [CompletionResult]::new('man', 'man', [CompletionResultType]::ParameterValue, 'Generate man pages')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mq;help;pub' {
            break
        }
        'mq;help;sub' {
            break
        }
        'mq;help;rr' {
            break
        }
        'mq;help;broker' {
            break
        }
        'mq;help;passwd' {
            break
        }
        'mq;help;bench' {
            [CompletionResult]::new('pub', 'pub', [CompletionResultType]::ParameterValue, 'Publish load: -c publishers at a rate or as fast as possible')
            [CompletionResult]::new('sub', 'sub', [CompletionResultType]::ParameterValue, 'Subscribe, count deliveries (loss, duplicates, reordering) and measure latency')
            [CompletionResult]::new('pubsub', 'pubsub', [CompletionResultType]::ParameterValue, 'Publishers and subscribers in one process: throughput and exact latency')
            [CompletionResult]::new('conn', 'conn', [CompletionResultType]::ParameterValue, 'Connection storm: connect-time percentiles and failures by reason')
            [CompletionResult]::new('plot', 'plot', [CompletionResultType]::ParameterValue, 'Draw saved --json summaries side by side into one SVG: latency distributions and per-second rates (e.g. mq broker against mosquitto)')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Capability report of a broker: versions, QoS round trips, retained, wildcards, shared subscriptions, largest payload, MQTT 5.0 limits')
            break
        }
        'mq;help;bench;pub' {
            break
        }
        'mq;help;bench;sub' {
            break
        }
        'mq;help;bench;pubsub' {
            break
        }
        'mq;help;bench;conn' {
            break
        }
        'mq;help;bench;plot' {
            break
        }
        'mq;help;bench;check' {
            break
        }
        'mq;help;carpark' {
            [CompletionResult]::new('controller', 'controller', [CompletionResultType]::ParameterValue, 'Count cars, publish the display state and the clock')
            [CompletionResult]::new('entry', 'entry', [CompletionResultType]::ParameterValue, 'An entry gate: report cars coming in (Enter = one car, q = quit)')
            [CompletionResult]::new('exit', 'exit', [CompletionResultType]::ParameterValue, 'An exit gate: report cars leaving (Enter = one car, q = quit)')
            [CompletionResult]::new('display', 'display', [CompletionResultType]::ParameterValue, 'A display panel: free spaces, temperature, clock')
            [CompletionResult]::new('sensor', 'sensor', [CompletionResultType]::ParameterValue, 'A temperature sensor')
            [CompletionResult]::new('demo', 'demo', [CompletionResultType]::ParameterValue, 'The whole car park in one process, around an embedded broker')
            break
        }
        'mq;help;carpark;controller' {
            break
        }
        'mq;help;carpark;entry' {
            break
        }
        'mq;help;carpark;exit' {
            break
        }
        'mq;help;carpark;display' {
            break
        }
        'mq;help;carpark;sensor' {
            break
        }
        'mq;help;carpark;demo' {
            break
        }
        'mq;help;completions' {
            break
        }
        'mq;help;man' {
            break
        }
        'mq;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
