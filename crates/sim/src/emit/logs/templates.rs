//! Log line templates per runtime. Variable parts (ids, durations, addresses, paths) are filled
//! from the pod's state and the random stream, so that template miners have real work to do.

use kubepulse_model::Severity;
use kubepulse_model::time::format_rfc3339;

use super::LineKind;
use crate::cluster::Pod;
use crate::profile::Language;
use crate::rng::SimRng;
use crate::world::World;

const PATHS: [&str; 6] = [
    "/",
    "/product/OLJCESPC7Z",
    "/product/66VCHSJNUP",
    "/cart",
    "/cart/checkout",
    "/setCurrency",
];
const WORDS: [&str; 6] = [
    "clothing",
    "accessories",
    "footwear",
    "kitchen",
    "hair",
    "decor",
];
const CURRENCIES: [&str; 5] = ["EUR", "USD", "JPY", "GBP", "CAD"];

/// The process name the kernel reports for a runtime.
pub fn process_name(l: Language) -> &'static str {
    match l {
        Language::Go => "server",
        Language::Java => "java",
        Language::Python => "python",
        Language::Node => "node",
        Language::Dotnet => "dotnet",
        Language::Redis => "redis-server",
        Language::Postgres => "postgres",
        Language::System => "app",
    }
}

/// `2026-01-05T10:00:00.123Z` and friends.
fn iso_ms(t: i64) -> String {
    let s = format_rfc3339(t);
    format!("{}.{:03}Z", &s[..19], t.rem_euclid(1000))
}

fn date_time(t: i64) -> (String, String) {
    let s = format_rfc3339(t);
    (s[..10].to_string(), s[11..19].to_string())
}

fn downstream(w: &World, pod: &Pod, rng: &mut SimRng) -> String {
    w.cluster.workloads[pod.workload]
        .service
        .map(|s| &w.cluster.services[s].calls)
        .filter(|c| !c.is_empty())
        .map(|c| w.cluster.services[c[rng.index(c.len())].to].name.clone())
        .unwrap_or_else(|| "upstream".into())
}

/// One line of `kind` for a container written in `lang`.
pub fn line(
    lang: Language,
    kind: LineKind,
    pod: &Pod,
    w: &World,
    t: i64,
    rng: &mut SimRng,
) -> (Severity, String) {
    let dur = (pod.usage.latency * 1000.0 * rng.range(0.5, 2.0)).max(0.1);
    let path = PATHS[rng.index(PATHS.len())];
    let down = downstream(w, pod, rng);
    let mem = pod.usage.working_set / 1_048_576.0;
    let lim = pod.template.limits.memory / 1_048_576.0;
    let (d, hms) = date_time(t);
    let msec = t.rem_euclid(1000);
    let sev = match kind {
        LineKind::Info => Severity::Info,
        LineKind::Slow | LineKind::Memory => Severity::Warn,
        LineKind::Error | LineKind::Fatalish => Severity::Error,
    };
    let err = if pod.usage.error_ratio > 0.3 && rng.chance(0.5) {
        "context deadline exceeded"
    } else {
        "rpc error: code = Unavailable desc = connection refused"
    };
    let body = match lang {
        Language::Go => {
            let ts = iso_ms(t);
            match kind {
                LineKind::Info if rng.chance(0.8) => format!(
                    "level=info ts={ts} caller=server.go:{} msg=\"request completed\" method=GET path={path} status=200 duration={dur:.1}ms",
                    100 + rng.below(40)
                ),
                LineKind::Info => format!(
                    "level=info ts={ts} caller=cache.go:88 msg=\"cache refreshed\" entries={} took={:.1}ms",
                    100 + rng.below(900),
                    rng.range(1.0, 40.0)
                ),
                LineKind::Slow => format!(
                    "level=warn ts={ts} caller=server.go:211 msg=\"slow request\" method=GET path={path} duration={dur:.0}ms"
                ),
                LineKind::Memory => format!(
                    "level=warn ts={ts} caller=runtime.go:31 msg=\"heap usage high\" heap_mb={mem:.0} limit_mb={lim:.0}"
                ),
                LineKind::Error => format!(
                    "level=error ts={ts} caller=client.go:143 msg=\"downstream call failed\" target={down} err=\"{err}\""
                ),
                LineKind::Fatalish => format!(
                    "level=error ts={ts} caller=config.go:57 msg=\"invalid configuration\" key=FEATURE_FLAGS err=\"unexpected end of JSON input\""
                ),
            }
        }
        Language::Java => {
            let level = match sev {
                Severity::Info => " INFO",
                Severity::Warn => " WARN",
                _ => "ERROR",
            };
            let prefix = format!(
                "{d} {hms}.{msec:03} {level} 1 --- [nio-8080-exec-{}]",
                1 + rng.below(10)
            );
            match kind {
                LineKind::Info => format!(
                    "{prefix} c.example.ad.AdController               : serving ads for context words [{}]",
                    WORDS[rng.index(WORDS.len())]
                ),
                LineKind::Slow => format!(
                    "{prefix} c.example.ad.AdController               : request took {dur:.0} ms, over the 200 ms budget"
                ),
                LineKind::Memory => format!(
                    "{prefix} o.s.b.a.gc.GcMonitor                    : GC pause (G1 Evacuation Pause) {:.0}ms, heap {mem:.0}M->{:.0}M({lim:.0}M)",
                    rng.range(20.0, 400.0),
                    mem * 0.9
                ),
                LineKind::Error => format!(
                    "{prefix} o.a.c.c.C.[.[.[/].[dispatcherServlet]    : Servlet.service() threw exception\njava.net.SocketTimeoutException: Read timed out\n\tat java.base/sun.nio.ch.NioSocketImpl.timedRead(NioSocketImpl.java:288)\n\tat com.example.ad.AdClient.fetch(AdClient.java:{})",
                    40 + rng.below(60)
                ),
                LineKind::Fatalish => format!(
                    "{prefix} o.s.boot.SpringApplication               : Application run failed: property 'ads.catalog.url' is not set"
                ),
            }
        }
        Language::Python => {
            let level = match sev {
                Severity::Info => "INFO",
                Severity::Warn => "WARNING",
                _ => "ERROR",
            };
            let name = pod.container.name.as_str();
            match kind {
                LineKind::Info => format!(
                    "{d} {hms},{msec:03} {level} [{name}] handled request product_ids={} took {dur:.0}ms",
                    rng.below(5) + 1
                ),
                LineKind::Slow => {
                    format!("{d} {hms},{msec:03} {level} [{name}] slow call to {down}: {dur:.0}ms")
                }
                LineKind::Memory => format!(
                    "{d} {hms},{msec:03} {level} [{name}] memory usage {mem:.0} MiB of {lim:.0} MiB"
                ),
                LineKind::Error => format!(
                    "{d} {hms},{msec:03} {level} [{name}] call to {down} failed: StatusCode.UNAVAILABLE"
                ),
                LineKind::Fatalish => format!(
                    "{d} {hms},{msec:03} {level} [{name}] worker {} failed to load model: KeyError: 'CATALOG_ADDR'",
                    rng.below(8)
                ),
            }
        }
        Language::Node => {
            let level = match sev {
                Severity::Info => 30,
                Severity::Warn => 40,
                _ => 50,
            };
            let host = pod.name.as_str();
            let msg = match kind {
                LineKind::Info => format!("\"msg\":\"conversion request successful\",\"from\":\"{}\",\"to\":\"{}\"", CURRENCIES[rng.index(5)], CURRENCIES[rng.index(5)]),
                LineKind::Slow => format!("\"msg\":\"event loop lag\",\"lag_ms\":{dur:.0}"),
                LineKind::Memory => format!("\"msg\":\"heap usage high\",\"heap_used_mb\":{mem:.0}"),
                LineKind::Error => format!("\"msg\":\"request failed\",\"err\":{{\"type\":\"Error\",\"message\":\"{err}\"}}"),
                LineKind::Fatalish => "\"msg\":\"unhandled rejection\",\"err\":{\"type\":\"TypeError\",\"message\":\"Cannot read properties of undefined (reading 'rates')\"}".into(),
            };
            format!("{{\"level\":{level},\"time\":{t},\"pid\":1,\"hostname\":\"{host}\",{msg}}}")
        }
        Language::Dotnet => {
            let level = match sev {
                Severity::Info => "info",
                Severity::Warn => "warn",
                _ => "fail",
            };
            match kind {
                LineKind::Info => format!(
                    "{level}: cartservice.cartstore.RedisCartStore[0]\n      GetCartAsync called with userId={}",
                    rng.uuid()
                ),
                LineKind::Slow => format!(
                    "{level}: cartservice.cartstore.RedisCartStore[0]\n      Redis round trip took {dur:.0}ms"
                ),
                LineKind::Memory => format!(
                    "{level}: cartservice.Startup[0]\n      Managed heap at {mem:.0}MB of {lim:.0}MB"
                ),
                LineKind::Error => format!(
                    "{level}: Microsoft.AspNetCore.Server.Kestrel[13]\n      Connection id \"{}\": An unhandled exception was thrown by the application.\n      StackExchange.Redis.RedisTimeoutException: Timeout performing HGETALL (5000ms)",
                    rng.hex(6).to_uppercase()
                ),
                LineKind::Fatalish => format!(
                    "{level}: cartservice.Startup[0]\n      Configuration value 'REDIS_ADDR' is invalid"
                ),
            }
        }
        Language::Redis => match kind {
            LineKind::Info => format!(
                "1:M {} * {} changes in 60 seconds. Saving...",
                redis_time(t),
                1000 + rng.below(9000)
            ),
            LineKind::Slow | LineKind::Memory => format!(
                "1:M {} # WARNING: used memory {mem:.0}mb is close to maxmemory",
                redis_time(t)
            ),
            _ => format!(
                "1:M {} # Error accepting a client connection: Too many open files",
                redis_time(t)
            ),
        },
        Language::Postgres => {
            let pid = 40 + rng.below(400);
            match kind {
                LineKind::Info if rng.chance(0.6) => format!(
                    "{d} {hms}.{msec:03} UTC [{pid}] LOG:  duration: {dur:.3} ms  statement: SELECT id, name, price FROM products WHERE id = ${}",
                    1
                ),
                LineKind::Info => format!(
                    "{d} {hms}.{msec:03} UTC [{pid}] LOG:  checkpoint complete: wrote {} buffers ({:.1}%); write={:.3} s, sync=0.002 s",
                    rng.below(2000),
                    rng.range(0.1, 9.0),
                    rng.range(1.0, 30.0)
                ),
                LineKind::Slow | LineKind::Memory => format!(
                    "{d} {hms}.{msec:03} UTC [{pid}] LOG:  temporary file: path \"base/pgsql_tmp/pgsql_tmp{pid}.{}\", size {}",
                    rng.below(9),
                    rng.below(100_000_000)
                ),
                _ => format!(
                    "{d} {hms}.{msec:03} UTC [{pid}] FATAL:  sorry, too many clients already"
                ),
            }
        }
        Language::System => system_line(pod, kind, t, rng),
    };
    (sev, body)
}

fn redis_time(t: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let s = format_rfc3339(t);
    let m: usize = s[5..7].parse().unwrap_or(1);
    format!(
        "{} {} {} {}.{:03}",
        &s[8..10],
        MONTHS[(m + 11) % 12],
        &s[..4],
        &s[11..19],
        t.rem_euclid(1000)
    )
}

fn system_line(pod: &Pod, kind: LineKind, t: i64, rng: &mut SimRng) -> String {
    let s = format_rfc3339(t);
    let klog = format!(
        "{}{}{} {}.{:06}       1",
        if kind == LineKind::Info { "I" } else { "W" },
        &s[5..7],
        &s[8..10],
        &s[11..19],
        t.rem_euclid(1000) * 1000
    );
    match pod.container.name.as_str() {
        "coredns" => format!(
            "[INFO] 10.244.{}.{}:{} - {} \"A IN cart.shop.svc.cluster.local. udp {} false 512\" NOERROR qr,aa,rd {} {:.6}s",
            rng.below(50),
            rng.below(250),
            30000 + rng.below(30000),
            rng.below(65535),
            50 + rng.below(40),
            100 + rng.below(60),
            rng.range(0.00002, 0.002)
        ),
        "fluent-bit" => format!(
            "[{} {}] [ info] [input:tail:tail.0] inotify_fs_add(): inode={} watch_fd={} name=/var/log/containers/{}.log",
            &s[..10],
            &s[11..19],
            rng.below(9_000_000),
            rng.below(200),
            rng.hex(8)
        ),
        "kube-proxy" => format!(
            "{klog} proxier.go:{}] \"SyncProxyRules complete\" elapsed=\"{:.1}ms\"",
            780 + rng.below(40),
            rng.range(20.0, 300.0)
        ),
        _ => format!(
            "{klog} main.go:{}] \"Scrape completed\" duration=\"{:.1}ms\"",
            100 + rng.below(100),
            rng.range(5.0, 90.0)
        ),
    }
}

/// What a process prints as it dies.
pub fn crash(lang: Language, pod: &Pod) -> String {
    let code = pod.template.crash_exit_code;
    match lang {
        Language::Go => "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x6b0f2a]\n\ngoroutine 1 [running]:\nmain.(*server).loadConfig(0xc0000b4000)\n\t/app/server.go:142 +0x2a\nmain.main()\n\t/app/main.go:57 +0x1f4".into(),
        Language::Java => "Exception in thread \"main\" java.lang.IllegalStateException: Failed to load ApplicationContext\n\tat org.springframework.boot.SpringApplication.run(SpringApplication.java:335)\n\tat com.example.ad.AdApplication.main(AdApplication.java:12)\nCaused by: java.lang.IllegalArgumentException: Could not resolve placeholder 'ads.catalog.url'".into(),
        Language::Python => "Traceback (most recent call last):\n  File \"/app/server.py\", line 88, in <module>\n    serve()\n  File \"/app/server.py\", line 61, in serve\n    catalog_addr = os.environ['CATALOG_ADDR']\nKeyError: 'CATALOG_ADDR'".into(),
        Language::Node => "/app/server.js:87\n    throw new Error('missing rates feed');\n    ^\n\nError: missing rates feed\n    at loadRates (/app/server.js:87:11)\n    at Object.<anonymous> (/app/server.js:112:1)".into(),
        Language::Dotnet => "Unhandled exception. System.InvalidOperationException: Configuration value 'REDIS_ADDR' is missing\n   at cartservice.Startup.ConfigureServices(IServiceCollection services) in /app/Startup.cs:line 41".into(),
        _ => format!("fatal: exiting with status {code}"),
    }
}
