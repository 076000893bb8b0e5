## skyparley hotline messages: Russian (русский).
##
## Same ids and variables as en.ftl; see the notes on functions there.
## Plural categories of Russian: one (1, 21, 31...), few (2-4, 22-24...), many (0, 5-20,
## 25-30...), other (fractions: 1,5).

## Operation notices

notice-filed = Сторона { $party } подала уведомление о полётах { $notice }: { NUMBER($volumes) ->
        [one] { NUMBER($volumes) } объём воздушного пространства
        [few] { NUMBER($volumes) } объёма воздушного пространства
        [many] { NUMBER($volumes) } объёмов воздушного пространства
       *[other] { NUMBER($volumes) } объёма воздушного пространства
    }, с { TIME($start) } до { TIME($end) }.

notice-version = Сторона { $party } выпустила новую версию уведомления о полётах { $notice }: { NUMBER($volumes) ->
        [one] { NUMBER($volumes) } объём воздушного пространства
        [few] { NUMBER($volumes) } объёма воздушного пространства
        [many] { NUMBER($volumes) } объёмов воздушного пространства
       *[other] { NUMBER($volumes) } объёма воздушного пространства
    }, с { TIME($start) } до { TIME($end) }.

notice-cancelled = Сторона { $party } отменила уведомление о полётах { $notice }.

## Strategic findings

finding-notice-conflict = Стратегический конфликт со стороной { $other }: уведомление { $notice }, пересечение с { TIME($start) } до { TIME($end) }, от { ALT($lower, unit: "фт") } до { ALT($upper, unit: "фт") }.

finding-protected-area = Конфликт с охраняемым районом ({ $other }): уведомление { $notice }, с { TIME($start) } до { TIME($end) }, от { ALT($lower, unit: "фт") } до { ALT($upper, unit: "фт") }.

finding-zone-notice = Позднее уведомление: зона { $zone } требует подачи уведомления не менее чем за { NUMBER($hours) ->
        [one] { NUMBER($hours) } час
        [few] { NUMBER($hours) } часа
        [many] { NUMBER($hours) } часов
       *[other] { NUMBER($hours) } часа
    }; уведомление { $notice } подано позже.

finding-zone-closed = Закрытая зона: уведомление { $notice } затрагивает зону { $zone }, закрытую для подавшей его стороны.

finding-cleared = Уведомление { $notice } проверено: стратегических конфликтов не выявлено.

## Requests and replies between duty officers

request-shift = Запрос: сдвинуть уведомление { $notice } на { NUMBER($minutes) ->
        [one] { NUMBER($minutes) } минуту
        [few] { NUMBER($minutes) } минуты
        [many] { NUMBER($minutes) } минут
       *[other] { NUMBER($minutes) } минуты
    }.

request-call = Запрос: просим выйти на связь по горячей линии в { TIME($at) }.

request-info = Запрос: просим предоставить дополнительные сведения по уведомлению { $notice }.

reply-accept = Ответ на сообщение { $message }: принято.

reply-decline = Ответ на сообщение { $message }: отклонено.

## Tactical alerts

alert-conflict = Предупреждение о конфликте ({ $level }): прогнозируется нарушение эшелонирования между { $own } и { $other } через { NUMBER($time_to_los_s, maximumFractionDigits: 0) ->
        [one] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } секунду
        [few] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } секунды
        [many] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } секунд
       *[other] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } секунды
    }; в точке наибольшего сближения — { NUMBER($hdist_nm, maximumFractionDigits: 2) ->
        [one] { NUMBER($hdist_nm, maximumFractionDigits: 2) } морская миля
        [few] { NUMBER($hdist_nm, maximumFractionDigits: 2) } морские мили
        [many] { NUMBER($hdist_nm, maximumFractionDigits: 2) } морских миль
       *[other] { NUMBER($hdist_nm, maximumFractionDigits: 2) } морской мили
    } по горизонтали и { NUMBER($vdist_ft, maximumFractionDigits: 0) ->
        [one] { NUMBER($vdist_ft, maximumFractionDigits: 0) } фут
        [few] { NUMBER($vdist_ft, maximumFractionDigits: 0) } фута
        [many] { NUMBER($vdist_ft, maximumFractionDigits: 0) } футов
       *[other] { NUMBER($vdist_ft, maximumFractionDigits: 0) } фута
    } по вертикали.

## Acknowledgement and escalation

ack = Получение сообщения { $message } подтверждено.

escalation = Эскалация: сообщение { $message } не подтверждено стороной { $party } в срок; передано на уровень { NUMBER($level) } ({ $level_name }).

## Labels

kind-notice = Уведомление
kind-alert = Предупреждение
kind-request = Запрос
kind-reply = Ответ
kind-text = Текст
kind-ack = Подтверждение
kind-finding = Результат проверки
kind-escalation = Эскалация

lang-ar = арабский
lang-en = английский
lang-ru = русский

# $lang: the code of the language the free text was written in.
free-text-marker = свободный текст на { $lang ->
        [ar] арабском языке
        [en] английском языке
        [ru] русском языке
       *[other] языке { $lang }
    }

## Отчёты об инцидентах

report-title = Отчёт об инциденте { $incident }
report-kind-los = Нарушение эшелонирования
report-kind-protected_area = Вторжение в охраняемый район
report-aircraft = Воздушные суда
report-parties = Стороны
report-start = Начало
report-end = Окончание
report-closest = Наибольшее сближение
report-min-hsep = Минимальный горизонтальный интервал
report-min-vsep = Минимальный вертикальный интервал
report-minima = Минимумы эшелонирования
report-map = Карта (север вверху, расстояния в морских милях от точки наибольшего сближения)
report-profile = Вертикальный профиль (высота в футах по времени)
report-separation = Интервалы по времени (горизонтальный в морских милях, вертикальный в футах)
report-alerts = Предупреждения и подтверждения
report-alert-level = Уровень
report-alert-event = Событие
report-event-raised = объявлено
report-event-upgraded = повышено
report-event-downgraded = понижено
report-event-resolved = снято
report-time = Время (UTC)
report-acked-by = Подтвердила сторона
report-not-acked = не подтверждено
report-none = нет
report-ledger = Подписанная запись журнала
report-area = Охраняемый район
