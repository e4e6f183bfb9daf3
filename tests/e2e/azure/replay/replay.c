/* The replaying Renovate: prints a recorded Renovate log and writes its recorded report file, as Renovate would.
 *
 * Statically linked into an image FROM scratch (see __init__.py), so a load test can start hundreds of containers
 * whose output is real Renovate output without paying for Node's start-up in each. It reads nothing but its two
 * recordings and the RENOVATE_REPORT_PATH the runner sets, pauses between lines as a run would, and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int copy(const char *from, FILE *to, long pause_ns) {
    FILE *in = fopen(from, "r");
    if (in == NULL) {
        perror(from);
        return 1;
    }
    char line[65536];
    struct timespec pause = {0, pause_ns};
    while (fgets(line, sizeof line, in) != NULL) {
        fputs(line, to);
        fflush(to);
        if (pause_ns > 0) nanosleep(&pause, NULL);
    }
    fclose(in);
    return 0;
}

int main(void) {
    const char *report_path = getenv("RENOVATE_REPORT_PATH");
    if (copy("/recording/renovate.ndjson", stdout, 5 * 1000 * 1000) != 0) return 1;
    if (report_path != NULL) {
        FILE *report = fopen(report_path, "w");
        if (report == NULL || copy("/recording/report.json", report, 0) != 0) {
            perror(report_path);
            return 1;
        }
        fclose(report);
    }
    return 0;
}
