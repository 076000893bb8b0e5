## skyparley hotline messages: English.
##
## One message per template of skyparley.domain.hotline.TEMPLATES: the id is the template
## name with "_" written "-", the variables are exactly the template's arguments
## (tests/adapters/test_catalogs.py checks both, in every language).
##
## Functions (skyparley.adapters.catalogs):
##   NUMBER($x)   the number for the locale; text that is a number counts as one, other
##                text is shown as given; maximumFractionDigits rounds the value itself,
##                so a plural selector sees what the reader sees.
##   TIME($t)     an RFC 3339 time (or epoch seconds) as UTC, "2015-09-30 06:00Z";
##                other text as given.
##   ALT($a, unit: "ft")  an altitude: text such as "FL150" as given, feet as a number
##                with the unit.

## Operation notices

notice-filed = { $party } filed operation notice { $notice }: { NUMBER($volumes) ->
        [one] { NUMBER($volumes) } volume
       *[other] { NUMBER($volumes) } volumes
    }, from { TIME($start) } to { TIME($end) }.

notice-version = { $party } issued a new version of operation notice { $notice }: { NUMBER($volumes) ->
        [one] { NUMBER($volumes) } volume
       *[other] { NUMBER($volumes) } volumes
    }, from { TIME($start) } to { TIME($end) }.

notice-cancelled = { $party } cancelled operation notice { $notice }.

## Strategic findings

finding-notice-conflict = Strategic conflict with { $other }: notice { $notice } overlaps from { TIME($start) } to { TIME($end) }, between { ALT($lower, unit: "ft") } and { ALT($upper, unit: "ft") }.

finding-protected-area = Protected area conflict ({ $other }): notice { $notice }, from { TIME($start) } to { TIME($end) }, between { ALT($lower, unit: "ft") } and { ALT($upper, unit: "ft") }.

finding-zone-notice = Late notice: zone { $zone } requires notice at least { NUMBER($hours) ->
        [one] { NUMBER($hours) } hour
       *[other] { NUMBER($hours) } hours
    } ahead; notice { $notice } was filed later than that.

finding-zone-closed = Closed zone: notice { $notice } enters zone { $zone }, which is closed to the party that filed it.

finding-cleared = Notice { $notice } is clear: no strategic conflicts found.

## Requests and replies between duty officers

request-shift = Request: shift notice { $notice } by { NUMBER($minutes) ->
        [one] { NUMBER($minutes) } minute
       *[other] { NUMBER($minutes) } minutes
    }.

request-call = Request: please call us on the hotline at { TIME($at) }.

request-info = Request: please send more information about notice { $notice }.

reply-accept = Reply to message { $message }: accepted.

reply-decline = Reply to message { $message }: declined.

## Tactical alerts

alert-conflict = Conflict alert ({ $level }): { $own } and { $other } are predicted to lose separation in { NUMBER($time_to_los_s, maximumFractionDigits: 0) ->
        [one] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } second
       *[other] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } seconds
    }; at closest approach { NUMBER($hdist_nm, maximumFractionDigits: 2) } NM horizontally and { NUMBER($vdist_ft, maximumFractionDigits: 0) } ft vertically.

## Acknowledgement and escalation

ack = Acknowledged: message { $message }.

escalation = Escalation: message { $message } was not acknowledged in time by { $party }; raised to level { NUMBER($level) } ({ $level_name }).

## Labels

kind-notice = Notice
kind-alert = Alert
kind-request = Request
kind-reply = Reply
kind-text = Text
kind-ack = Acknowledgement
kind-finding = Finding
kind-escalation = Escalation

lang-ar = Arabic
lang-en = English
lang-ru = Russian

# $lang: the code of the language the free text was written in.
free-text-marker = free text, written in { $lang ->
        [ar] { lang-ar }
        [en] { lang-en }
        [ru] { lang-ru }
       *[other] { $lang }
    }

## Incident reports

report-title = Incident report { $incident }
report-kind-los = Loss of separation
report-kind-protected_area = Protected-area intrusion
report-aircraft = Aircraft
report-parties = Parties
report-start = Start
report-end = End
report-closest = Closest approach
report-min-hsep = Minimum horizontal separation
report-min-vsep = Minimum vertical separation
report-minima = Separation minima
report-map = Map (north up, distances in NM from the closest point)
report-profile = Vertical profile (altitude in ft over time)
report-separation = Separation over time (horizontal in NM, vertical in ft)
report-alerts = Alerts and acknowledgements
report-alert-level = Level
report-alert-event = Event
report-event-raised = raised
report-event-upgraded = upgraded
report-event-downgraded = downgraded
report-event-resolved = resolved
report-time = Time (UTC)
report-acked-by = Acknowledged by
report-not-acked = not acknowledged
report-none = none
report-ledger = Signed ledger entry
report-area = Protected area
