//! Common Moroccan first and family names, in Latin and Arabic script.

pub(crate) type Name = (&'static str, &'static str);

pub(crate) const MALE: &[Name] = &[
    ("Mohamed", "محمد"), ("Ahmed", "أحمد"), ("Youssef", "يوسف"), ("Abdellah", "عبد الله"),
    ("Hassan", "حسن"), ("Hicham", "هشام"), ("Rachid", "رشيد"), ("Said", "سعيد"),
    ("Mustapha", "مصطفى"), ("Khalid", "خالد"), ("Abdelkader", "عبد القادر"), ("Omar", "عمر"),
    ("Ali", "علي"), ("Hamid", "حميد"), ("Brahim", "إبراهيم"), ("Driss", "إدريس"),
    ("Aziz", "عزيز"), ("Karim", "كريم"), ("Nabil", "نبيل"), ("Mehdi", "المهدي"),
    ("Amine", "أمين"), ("Ayoub", "أيوب"), ("Yassine", "ياسين"), ("Hamza", "حمزة"),
    ("Othmane", "عثمان"), ("Adam", "آدم"), ("Rayane", "ريان"), ("Ismail", "إسماعيل"),
    ("Abderrahim", "عبد الرحيم"), ("Abdelaziz", "عبد العزيز"), ("Jamal", "جمال"), ("Noureddine", "نور الدين"),
    ("Mounir", "منير"), ("Anas", "أنس"), ("Zakaria", "زكرياء"), ("Bilal", "بلال"),
    ("Soufiane", "سفيان"), ("Tarik", "طارق"), ("Larbi", "العربي"), ("Lahcen", "لحسن"),
    ("Mbarek", "مبارك"), ("Abdelhak", "عبد الحق"),
];

pub(crate) const FEMALE: &[Name] = &[
    ("Fatima", "فاطمة"), ("Khadija", "خديجة"), ("Aicha", "عائشة"), ("Malika", "مليكة"),
    ("Naima", "نعيمة"), ("Zahra", "زهرة"), ("Rachida", "رشيدة"), ("Saida", "سعيدة"),
    ("Amina", "أمينة"), ("Hafsa", "حفصة"), ("Meryem", "مريم"), ("Salma", "سلمى"),
    ("Sanaa", "سناء"), ("Nadia", "نادية"), ("Latifa", "لطيفة"), ("Hanane", "حنان"),
    ("Karima", "كريمة"), ("Samira", "سميرة"), ("Zineb", "زينب"), ("Houda", "هدى"),
    ("Imane", "إيمان"), ("Asmae", "أسماء"), ("Hajar", "هاجر"), ("Soukaina", "سكينة"),
    ("Oumaima", "أميمة"), ("Khaoula", "خولة"), ("Ghizlane", "غزلان"), ("Loubna", "لبنى"),
    ("Nora", "نورة"), ("Jamila", "جميلة"), ("Mina", "مينة"), ("Yamna", "يامنة"),
    ("Rkia", "رقية"), ("Habiba", "حبيبة"), ("Touria", "ثريا"), ("Laila", "ليلى"),
    ("Nisrine", "نسرين"), ("Ikram", "إكرام"), ("Wiam", "وئام"), ("Yasmine", "ياسمين"),
    ("Chaimae", "شيماء"), ("Kawtar", "كوثر"),
];

pub(crate) const FAMILY: &[Name] = &[
    ("Alaoui", "العلوي"), ("Idrissi", "الإدريسي"), ("Bennani", "بناني"), ("Tazi", "التازي"),
    ("Fassi", "الفاسي"), ("Berrada", "برادة"), ("Benjelloun", "بنجلون"), ("Chraibi", "الشرايبي"),
    ("El Amrani", "العمراني"), ("Benali", "بنعلي"), ("Tahiri", "الطاهري"), ("Ouazzani", "الوزاني"),
    ("Lahlou", "لحلو"), ("Sqalli", "الصقلي"), ("Kettani", "الكتاني"), ("Hajji", "الحجي"),
    ("Bouazza", "بوعزة"), ("Ait Ali", "آيت علي"), ("Benkirane", "بنكيران"), ("El Khatib", "الخطيب"),
    ("Ziani", "الزياني"), ("Mansouri", "المنصوري"), ("Saidi", "السعيدي"), ("Naciri", "الناصري"),
    ("Jabri", "الجابري"), ("Kabbaj", "القباج"), ("Mernissi", "المرنيسي"), ("Chaoui", "الشاوي"),
    ("Doukkali", "الدكالي"), ("Soussi", "السوسي"), ("Rifi", "الريفي"), ("Filali", "الفيلالي"),
    ("Sahraoui", "الصحراوي"), ("Haddad", "الحداد"), ("Najjar", "النجار"), ("Khayat", "الخياط"),
    ("Bakkali", "البقالي"), ("Zerouali", "الزروالي"), ("Boukhari", "البخاري"), ("Benmoussa", "بنموسى"),
    ("Benchekroun", "بنشقرون"), ("Cherkaoui", "الشرقاوي"), ("Gharbi", "الغربي"), ("Moussaoui", "الموساوي"),
    ("Belhaj", "بلحاج"), ("Hamdaoui", "الحمداوي"), ("Karimi", "الكريمي"), ("Azzouzi", "العزوزي"),
    ("Bouzidi", "البوزيدي"), ("Benabdallah", "بنعبد الله"), ("Boutaleb", "بوطالب"), ("Marzouki", "المرزوقي"),
    ("Amzil", "أمزيل"), ("Ait Brahim", "آيت إبراهيم"), ("Ouchen", "أوشن"), ("Boussaid", "بوسعيد"),
    ("El Ouafi", "الوافي"), ("Taibi", "الطيبي"), ("Hilali", "الهلالي"), ("Sebti", "السبتي"),
    ("Slaoui", "السلاوي"), ("Marrakchi", "المراكشي"),
];
