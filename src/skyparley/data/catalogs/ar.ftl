## skyparley hotline messages: Arabic (العربية).
##
## Same ids and variables as en.ftl; see the notes on functions there.
## Plural categories of Arabic: zero (0), one (1), two (2), few (3-10, 103-110...),
## many (11-99, 111-199...), other (100-102..., fractions). Counted nouns follow the
## grammar of the phrase: after a preposition or an idafa (بمقدار، قبل، خلال) the dual is
## in the genitive (دقيقتين); 3-10 take the plural, 11-99 the accusative singular, 100 and
## fractions the genitive singular.
## Digits are Latin (1, 2, 3), as in the identifiers and times the messages carry.

## Operation notices

notice-filed = قدّم الطرف { $party } إخطار العمليات { $notice }، ويشمل { NUMBER($volumes) ->
        [zero] { NUMBER($volumes) } نطاق
        [one] نطاقًا واحدًا
        [two] نطاقين
        [few] { NUMBER($volumes) } نطاقات
        [many] { NUMBER($volumes) } نطاقًا
       *[other] { NUMBER($volumes) } نطاق
    }، من { TIME($start) } إلى { TIME($end) }.

notice-version = أصدر الطرف { $party } نسخة جديدة من إخطار العمليات { $notice }، وتشمل { NUMBER($volumes) ->
        [zero] { NUMBER($volumes) } نطاق
        [one] نطاقًا واحدًا
        [two] نطاقين
        [few] { NUMBER($volumes) } نطاقات
        [many] { NUMBER($volumes) } نطاقًا
       *[other] { NUMBER($volumes) } نطاق
    }، من { TIME($start) } إلى { TIME($end) }.

notice-cancelled = ألغى الطرف { $party } إخطار العمليات { $notice }.

## Strategic findings

finding-notice-conflict = تعارض استراتيجي مع الطرف { $other }: يتداخل الإخطار { $notice } من { TIME($start) } إلى { TIME($end) }، بين { ALT($lower, unit: "قدم") } و{ ALT($upper, unit: "قدم") }.

finding-protected-area = تعارض مع منطقة محمية ({ $other }): الإخطار { $notice }، من { TIME($start) } إلى { TIME($end) }، بين { ALT($lower, unit: "قدم") } و{ ALT($upper, unit: "قدم") }.

finding-zone-notice = إخطار متأخر: تشترط المنطقة { $zone } تقديم الإخطار قبل { NUMBER($hours) ->
        [zero] { NUMBER($hours) } ساعة
        [one] ساعة واحدة
        [two] ساعتين
        [few] { NUMBER($hours) } ساعات
        [many] { NUMBER($hours) } ساعة
       *[other] { NUMBER($hours) } ساعة
    } على الأقل، وقد قُدِّم الإخطار { $notice } دون هذه المهلة.

finding-zone-closed = منطقة مغلقة: يدخل الإخطار { $notice } المنطقة { $zone } المغلقة أمام الطرف الذي قدّمه.

finding-cleared = لا تعارضات: لم يُرصد أي تعارض استراتيجي للإخطار { $notice }.

## Requests and replies between duty officers

request-shift = طلب: تعديل توقيت الإخطار { $notice } بمقدار { NUMBER($minutes) ->
        [zero] { NUMBER($minutes) } دقيقة
        [one] دقيقة واحدة
        [two] دقيقتين
        [few] { NUMBER($minutes) } دقائق
        [many] { NUMBER($minutes) } دقيقة
       *[other] { NUMBER($minutes) } دقيقة
    }.

request-call = طلب: يُرجى الاتصال بنا عبر الخط الساخن في { TIME($at) }.

request-info = طلب: يُرجى تزويدنا بمعلومات إضافية عن الإخطار { $notice }.

reply-accept = رد على الرسالة { $message }: تمت الموافقة.

reply-decline = رد على الرسالة { $message }: تم الرفض.

## Tactical alerts

alert-conflict = إنذار تعارض ({ $level }): يُتوقع فقدان الفصل بين { $own } و{ $other } خلال { NUMBER($time_to_los_s, maximumFractionDigits: 0) ->
        [zero] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } ثانية
        [one] ثانية واحدة
        [two] ثانيتين
        [few] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } ثوانٍ
        [many] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } ثانية
       *[other] { NUMBER($time_to_los_s, maximumFractionDigits: 0) } ثانية
    }؛ وعند أقرب نقطة اقتراب تكون المسافة الأفقية { NUMBER($hdist_nm, maximumFractionDigits: 2) ->
        [zero] { NUMBER($hdist_nm, maximumFractionDigits: 2) } ميل بحري
        [one] ميلًا بحريًا واحدًا
        [two] ميلين بحريين
        [few] { NUMBER($hdist_nm, maximumFractionDigits: 2) } أميال بحرية
        [many] { NUMBER($hdist_nm, maximumFractionDigits: 2) } ميلًا بحريًا
       *[other] { NUMBER($hdist_nm, maximumFractionDigits: 2) } ميل بحري
    } والمسافة الرأسية { NUMBER($vdist_ft, maximumFractionDigits: 0) ->
        [zero] { NUMBER($vdist_ft, maximumFractionDigits: 0) } قدم
        [one] قدمًا واحدة
        [two] قدمين
        [few] { NUMBER($vdist_ft, maximumFractionDigits: 0) } أقدام
        [many] { NUMBER($vdist_ft, maximumFractionDigits: 0) } قدمًا
       *[other] { NUMBER($vdist_ft, maximumFractionDigits: 0) } قدم
    }.

## Acknowledgement and escalation

ack = تم تأكيد استلام الرسالة { $message }.

escalation = تصعيد: لم يؤكد الطرف { $party } استلام الرسالة { $message } في الموعد المحدد؛ رُفعت إلى المستوى { NUMBER($level) } ({ $level_name }).

## Labels

kind-notice = إخطار
kind-alert = إنذار
kind-request = طلب
kind-reply = رد
kind-text = نص
kind-ack = تأكيد استلام
kind-finding = نتيجة تحقق
kind-escalation = تصعيد

lang-ar = العربية
lang-en = الإنجليزية
lang-ru = الروسية

# $lang: the code of the language the free text was written in.
free-text-marker = نص حر مكتوب باللغة { $lang ->
        [ar] { lang-ar }
        [en] { lang-en }
        [ru] { lang-ru }
       *[other] { $lang }
    }

## تقارير الحوادث

report-title = تقرير الحادث { $incident }
report-kind-los = فقدان الفصل
report-kind-protected_area = اختراق منطقة محمية
report-aircraft = الطائرات
report-parties = الأطراف
report-start = البداية
report-end = النهاية
report-closest = أقرب اقتراب
report-min-hsep = أدنى فصل أفقي
report-min-vsep = أدنى فصل رأسي
report-minima = الحدود الدنيا للفصل
report-map = الخريطة (الشمال إلى الأعلى، المسافات بالأميال البحرية من نقطة أقرب اقتراب)
report-profile = المقطع الرأسي (الارتفاع بالأقدام عبر الزمن)
report-separation = الفصل عبر الزمن (الأفقي بالأميال البحرية، والرأسي بالأقدام)
report-alerts = التنبيهات والإقرارات
report-alert-level = المستوى
report-alert-event = الحدث
report-event-raised = أُطلق
report-event-upgraded = رُفع مستواه
report-event-downgraded = خُفّض مستواه
report-event-resolved = انتهى
report-time = الوقت (UTC)
report-acked-by = أقرّ به
report-not-acked = لم يُقَرّ به
report-none = لا شيء
report-ledger = قيد موقّع في السجل
report-area = المنطقة المحمية
